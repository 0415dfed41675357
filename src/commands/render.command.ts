/**
 * `mirror render [nginx|apigw|dashboard]`'s flags and output; the work is in
 * ./render.ts, ./renderApigw.ts and ./renderDashboard.ts.
 */
import { Option } from 'commander';
import { UsageError } from '../errors.js';
import { configOption, defineCommand, jsonOption, option, phaseOption } from './define.js';
import type { RenderResult } from './render.js';
import type { RenderApigwResult } from './renderApigw.js';
import type { RenderDashboardResult } from './renderDashboard.js';
import type { RenderShipUnitResult } from './renderShipUnit.js';

interface RenderFlags {
  config: string;
  phase?: string;
  format?: string;
  out?: string;
  stdout?: boolean;
  user?: string;
  group?: string;
  mirrorCommand?: string;
}

/** Which render ran, and its result: the JSON output is the result alone. */
type RenderOutcome =
  | { exitCode: number; target: 'nginx'; result: RenderResult }
  | { exitCode: number; target: 'apigw'; result: RenderApigwResult }
  | { exitCode: number; target: 'dashboard'; result: RenderDashboardResult }
  | { exitCode: number; target: 'ship-unit'; result: RenderShipUnitResult };

export const renderCommand = defineCommand<RenderFlags, [string | undefined], RenderOutcome>({
  name: 'render',
  description: 'render the nginx include files for a phase (default), the API Gateway side (apigw), or the Grafana dashboard',
  arguments: [{ syntax: '[what]', description: 'nginx (default), apigw, dashboard or ship-unit' }],
  options: [
    configOption(),
    phaseOption(),
    new Option('--format <format>', 'apigw: cloudformation (default) or openapi').choices(['cloudformation', 'openapi']),
    option('--out <path>', 'nginx: directory (default mirror-nginx); apigw: directory (default mirror-apigw); dashboard: file (default mirror-dashboard.json)'),
    option('--stdout', 'print instead of writing'),
    option('--user <name>', "ship-unit: the user the shipper runs as, one that reads nginx's logs (default www-data)"),
    option('--group <name>', 'ship-unit: its group (default adm)'),
    option('--mirror-command <path>', 'ship-unit: absolute path of mirror (default /usr/local/bin/mirror)'),
    jsonOption(),
  ],
  async run(opts, [what]) {
    const target = what ?? 'nginx';
    if (target === 'apigw') {
      const { runRenderApigw } = await import('./renderApigw.js');
      const result = await runRenderApigw({ config: opts.config, format: opts.format, out: opts.out, stdout: opts.stdout });
      // With --stdout, stdout carries only the document: warnings go to stderr.
      if (opts.stdout) for (const w of result.warnings) process.stderr.write(`warning: ${w.path}: ${w.message}\n`);
      return { exitCode: result.exitCode, target, result };
    }
    if (target === 'dashboard') {
      const { runRenderDashboard } = await import('./renderDashboard.js');
      const result = await runRenderDashboard({ out: opts.out, stdout: opts.stdout });
      return { exitCode: result.exitCode, target, result };
    }
    if (target === 'ship-unit') {
      const { runRenderShipUnit } = await import('./renderShipUnit.js');
      const result = await runRenderShipUnit({ config: opts.config, out: opts.out, stdout: opts.stdout, user: opts.user, group: opts.group, mirrorCommand: opts.mirrorCommand });
      return { exitCode: result.exitCode, target, result };
    }
    if (target !== 'nginx') throw new UsageError(`render ${target}: expected nginx, apigw, dashboard or ship-unit`);
    if (opts.format) throw new UsageError('--format applies to render apigw only');
    const { runRender } = await import('./render.js');
    const result = await runRender(opts);
    return { exitCode: result.exitCode, target, result };
  },
  async formatText(outcome) {
    switch (outcome.target) {
      case 'apigw':
        return (await import('./renderApigw.js')).formatRenderApigwText(outcome.result);
      case 'dashboard':
        return (await import('./renderDashboard.js')).formatRenderDashboardText(outcome.result);
      case 'ship-unit':
        return (await import('./renderShipUnit.js')).formatRenderShipUnitText(outcome.result);
      case 'nginx':
        return (await import('./render.js')).formatRenderText(outcome.result);
    }
  },
  formatJson: (outcome) => JSON.stringify(outcome.result, null, 2),
});
