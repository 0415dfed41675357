/** `mirror render`: the nginx include files for a phase, written atomically or printed. */
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ExitCode } from '../errors.js';
import { loadConfig } from '../config/load.js';
import type { RuleIssue } from '../config/types.js';
import { renderNginx, phaseSummaries, type RenderedFile } from '../render/nginxConfig.js';
import { loadTemplates } from '../render/templates.js';
import { writeFileAtomic } from '../fs/atomicWrite.js';
import { parsePhaseFlag } from '../flags/options.js';
import type { Phase } from '../config/phases.js';

export interface RenderOptions {
  config?: string;
  phase?: string;
  out?: string;
  stdout?: boolean;
}

export interface RenderResult {
  exitCode: ExitCode;
  phase: Phase;
  summary: string;
  files: (RenderedFile & { path?: string; includeLine: string })[];
  warnings: RuleIssue[];
}

const defaultRenderDir = 'mirror-nginx';

export async function runRender(options: RenderOptions): Promise<RenderResult> {
  const requested = parsePhaseFlag(options.phase);
  const { config, warnings } = await loadConfig(options.config, requested);
  const phase = requested ?? config.phase;
  const rendered = renderNginx(config, phase, await loadTemplates('nginx'));
  const outDir = resolve(options.out ?? defaultRenderDir);
  if (!options.stdout) await mkdir(outDir, { recursive: true });
  const files = [];
  for (const file of rendered.files) {
    const path = join(outDir, file.name);
    if (!options.stdout) await writeFileAtomic(path, file.contents);
    files.push({ ...file, ...(options.stdout ? {} : { path }), includeLine: `include ${path};` });
  }
  return { exitCode: ExitCode.ok, phase, summary: phaseSummaries[phase], files, warnings };
}

export function formatRenderText(result: RenderResult): string {
  const lines: string[] = [];
  if (result.files.every((f) => f.path === undefined)) {
    for (const file of result.files) lines.push(`# ---- ${file.name} (${file.context} context) ----`, file.contents);
    return lines.join('\n');
  }
  lines.push(`Rendered the ${result.phase} phase: ${result.summary}`, '');
  for (const file of result.files) lines.push(`  wrote ${file.path}`);
  lines.push('', 'Add the include lines to the nginx config:');
  for (const file of result.files) {
    const where =
      file.context === 'http'
        ? 'once, inside `http { }` (e.g. in /etc/nginx/nginx.conf)'
        : 'inside the `server { }` that receives the callbacks, replacing its own callback location';
    lines.push(`  ${file.includeLine}`, `      ${where}`);
  }
  lines.push('', 'Then check and load it: mirror validate, nginx -t, nginx -s reload.');
  for (const w of result.warnings) lines.push(`warning: ${w.path}: ${w.message}`);
  return lines.join('\n');
}
