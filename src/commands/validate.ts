/**
 * `mirror validate`: render into a throwaway prefix, run the real `nginx -t`, map
 * its messages back to the rendered files, then lint what `nginx -t` cannot see.
 * Offline by construction: no host name in the rendered files is resolved at load.
 */
import { ExitCode } from '../errors.js';
import { loadConfig } from '../config/load.js';
import type { MirrorConfig, RuleIssue } from '../config/types.js';
import type { Phase } from '../config/phases.js';
import { renderNginx } from '../render/nginxConfig.js';
import { loadTemplates } from '../render/templates.js';
import { findNginx } from '../nginx/nginxBinary.js';
import { writeHarness, type Harness } from '../nginx/harness.js';
import { runNginxTest, type NginxTestResult } from '../nginx/nginxTest.js';
import { runLint } from './lint.js';
import type { Finding } from '../lint/types.js';
import { parsePhaseFlag } from './options.js';

export interface ValidateOptions {
  config?: string;
  phase?: string;
  nginx?: string;
  /** Keep the throwaway prefix for inspection. */
  keep?: boolean;
}

export interface ValidateResult {
  exitCode: ExitCode;
  phase: Phase;
  nginxPath: string;
  nginxTest: Pick<NginxTestResult, 'ok' | 'exitCode' | 'messages'>;
  lint: { findings: Finding[]; errors: number; warnings: number };
  /** What the check changed to stay offline and side-effect free. */
  notes: string[];
  warnings: RuleIssue[];
  prefix?: string;
}

export async function runValidate(options: ValidateOptions): Promise<ValidateResult> {
  const requested = parsePhaseFlag(options.phase);
  const { config, warnings } = await loadConfig(options.config, requested);
  const phase = requested ?? config.phase;
  const nginxPath = await findNginx(options.nginx);
  const { harness, notes } = await prepareHarness(config, phase);
  try {
    const nginxTest = await runNginxTest(nginxPath, harness);
    const lintRun = await runLint({ files: [harness.confPath], format: 'json' });
    const findings = lintRun.report.findings.map((f) => ({ ...f, file: harness.fileMap[f.file] ?? f.file }));
    const lint = {
      findings,
      errors: findings.filter((f) => f.severity === 'error').length,
      warnings: findings.filter((f) => f.severity === 'warning').length,
    };
    const ok = nginxTest.ok && lint.errors === 0;
    return {
      exitCode: ok ? ExitCode.ok : ExitCode.checkFailed,
      phase,
      nginxPath,
      nginxTest: { ok: nginxTest.ok, exitCode: nginxTest.exitCode, messages: nginxTest.messages },
      lint,
      notes,
      warnings,
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

export function formatValidateText(result: ValidateResult): string {
  const lines: string[] = [];
  const verdict = result.exitCode === ExitCode.ok ? 'VALID' : 'INVALID';
  lines.push(`${verdict}: ${result.phase} phase (nginx -t ${result.nginxTest.ok ? 'passed' : 'failed'}; lint: ${result.lint.errors} errors, ${result.lint.warnings} warnings)`);
  for (const m of result.nginxTest.messages) {
    lines.push(`  nginx ${m.level}: ${m.text}${m.file ? ` (${m.file}:${m.line})` : ''}`);
  }
  for (const f of result.lint.findings) {
    lines.push(`  lint ${f.severity} ${f.ruleId}: ${f.message} (${f.file}:${f.line})`, `      fix: ${f.help}`);
  }
  for (const w of result.warnings) lines.push(`  config warning: ${w.path}: ${w.message}`);
  for (const n of result.notes) lines.push(`  note: ${n}`);
  if (result.prefix) lines.push(`  kept the prefix: ${result.prefix}`);
  return lines.join('\n');
}
