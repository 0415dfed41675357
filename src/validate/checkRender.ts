/**
 * Checking a render of a loaded config for a phase: render into a throwaway
 * prefix, run the real `nginx -t`, map its messages back to the rendered files,
 * then lint what `nginx -t` cannot see. Offline by construction: no host name in
 * the rendered files is resolved at load. `mirror validate`, the shadow gate and
 * every cutover transition use it with the config they already hold.
 */
import type { MirrorConfig } from '../config/types.js';
import type { Phase } from '../config/phases.js';
import { renderNginx } from '../render/nginxConfig.js';
import { loadTemplates } from '../render/templates.js';
import { writeHarness, type Harness } from '../nginx/harness.js';
import { runNginxTest, type NginxTestResult } from '../nginx/nginxTest.js';
import { lintFiles } from '../lint/lintFiles.js';
import type { Finding } from '../lint/types.js';

export interface RenderCheck {
  /** nginx -t passed and the lint found no error. */
  ok: boolean;
  nginxTest: Pick<NginxTestResult, 'ok' | 'exitCode' | 'messages'>;
  lint: { findings: Finding[]; errors: number; warnings: number };
  /** What the check changed to stay offline and side-effect free. */
  notes: string[];
  /** The throwaway prefix, when kept for inspection. */
  prefix?: string;
}

export async function checkRender(config: MirrorConfig, phase: Phase, nginxPath: string, options: { keep?: boolean } = {}): Promise<RenderCheck> {
  const { harness, notes } = await prepareHarness(config, phase);
  try {
    const nginxTest = await runNginxTest(nginxPath, harness);
    const report = await lintFiles([harness.confPath]);
    const findings = report.findings.map((f) => ({ ...f, file: harness.fileMap[f.file] ?? f.file }));
    const lint = {
      findings,
      errors: findings.filter((f) => f.severity === 'error').length,
      warnings: findings.filter((f) => f.severity === 'warning').length,
    };
    return {
      ok: nginxTest.ok && lint.errors === 0,
      nginxTest: { ok: nginxTest.ok, exitCode: nginxTest.exitCode, messages: nginxTest.messages },
      lint,
      notes,
      ...(options.keep ? { prefix: harness.prefix } : {}),
    };
  } finally {
    if (!options.keep) await harness.remove();
  }
}

/**
 * Render the phase into a fresh harness. Two substitutions keep `nginx -t` offline
 * and harmless, and are reported: the parity log goes into the prefix (nginx -t
 * opens log files), and an origin named by host gets a stub `upstream {}` (a
 * literal host in proxy_pass is resolved at load time).
 */
async function prepareHarness(config: MirrorConfig, phase: Phase): Promise<{ harness: Harness; notes: string[] }> {
  const templates = await loadTemplates('nginx');
  const notes: string[] = [];
  const upstreamStubs: string[] = [];
  let checked: MirrorConfig = config;
  if (!config.origin.isAddress) {
    if (config.origin.port === undefined) {
      upstreamStubs.push(config.origin.host);
      notes.push(`origin host ${config.origin.host} was declared as a stub upstream block so nginx -t resolves nothing`);
    } else {
      checked = { ...checked, origin: { ...checked.origin, host: '127.0.0.1', isAddress: true } };
      notes.push(`origin host ${config.origin.host} was replaced by 127.0.0.1 so nginx -t resolves nothing`);
    }
  }
  notes.push(`parityLog.path ${config.parityLog.path} was pointed into the throwaway prefix so nginx -t creates no file`);
  const harness = await writeHarness({
    render: (prefix) =>
      renderNginx({ ...checked, parityLog: { ...checked.parityLog, path: `${prefix}/logs/parity.log` } }, phase, templates),
    upstreamStubs,
  });
  return { harness, notes };
}
