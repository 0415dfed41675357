/**
 * `mirror validate`: the config loaded for a phase, its render checked by the real
 * `nginx -t` and the lint (src/validate/checkRender.ts), reported.
 */
import { ExitCode } from '../errors.js';
import { loadConfig } from '../config/load.js';
import type { RuleIssue } from '../config/types.js';
import type { Phase } from '../config/phases.js';
import { findNginx } from '../nginx/nginxBinary.js';
import { checkRender, type RenderCheck } from '../validate/checkRender.js';
import { parsePhaseFlag } from '../flags/options.js';

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
  nginxTest: RenderCheck['nginxTest'];
  lint: RenderCheck['lint'];
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
  const { ok, prefix, ...check } = await checkRender(config, phase, nginxPath, options.keep ? { keep: true } : {});
  return { exitCode: ok ? ExitCode.ok : ExitCode.checkFailed, phase, nginxPath, ...check, warnings, ...(prefix ? { prefix } : {}) };
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
