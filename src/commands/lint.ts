/**
 * `mirror lint FILE… [--format text|json|sarif]`: the static checks nginx -t
 * cannot do, on any nginx config, includes resolved, `nginx -T` dumps too.
 * Exit 1 when an error-level finding exists, 0 otherwise; unreadable input is a
 * UsageError (exit 2).
 */
import { ExitCode, UsageError } from '../errors.js';
import { lintFiles } from '../lint/lintFiles.js';
import { formatSarif, formatText, type LintReport } from '../lint/report.js';

export type { LintReport } from '../lint/report.js';

export interface LintOptions {
  files: string[];
  format: 'text' | 'json' | 'sarif';
}

export async function runLint(options: LintOptions): Promise<{ report: LintReport; output: string; exitCode: ExitCode }> {
  if (options.files.length === 0) throw new UsageError('mirror lint needs at least one nginx config file');
  const report = await lintFiles(options.files);
  const output = options.format === 'json' ? JSON.stringify(report, null, 2) : options.format === 'sarif' ? formatSarif(report) : formatText(report);
  return { report, output, exitCode: report.counts.error > 0 ? ExitCode.checkFailed : ExitCode.ok };
}
