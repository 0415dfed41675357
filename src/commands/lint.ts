/**
 * `mirror lint FILE… [--format text|json|sarif]`: the static checks nginx -t
 * cannot do, on any nginx config, includes resolved, `nginx -T` dumps too.
 * Exit 1 when an error-level finding exists, 0 otherwise; unreadable input is a
 * UsageError (exit 2).
 */
import { ExitCode, UsageError } from '../errors.js';
import { loadNginxConfig } from '../lint/load.js';
import { lintTree } from '../lint/index.js';
import { countFindings, formatSarif, formatText, type LintReport } from '../lint/report.js';

export type { LintReport } from '../lint/report.js';

export interface LintOptions {
  files: string[];
  format: 'text' | 'json' | 'sarif';
  /** nginx's `-p`: the base of a relative `confDir`. */
  prefix?: string;
  /** nginx's conf prefix (the directory of the main nginx.conf), where relative includes resolve. */
  confDir?: string;
}

export async function runLint(options: LintOptions): Promise<{ report: LintReport; output: string; exitCode: ExitCode }> {
  if (options.files.length === 0) throw new UsageError('mirror lint needs at least one nginx config file');
  const findings = [];
  const files: string[] = [];
  const notes: string[] = [];
  for (const file of options.files) {
    const loaded = await loadNginxConfig(file, { ...(options.prefix ? { prefix: options.prefix } : {}), ...(options.confDir ? { confDir: options.confDir } : {}) });
    files.push(...loaded.files);
    notes.push(...loaded.notes);
    findings.push(...lintTree(loaded.tree));
  }
  const report: LintReport = { findings, counts: countFindings(findings), files: [...new Set(files)], ...(notes.length > 0 ? { notes } : {}) };
  const output = options.format === 'json' ? JSON.stringify(report, null, 2) : options.format === 'sarif' ? formatSarif(report) : formatText(report);
  return { report, output, exitCode: report.counts.error > 0 ? ExitCode.checkFailed : ExitCode.ok };
}
