/**
 * `mirror lint FILE… [--format text|json|sarif]`: the static checks nginx -t
 * cannot do, on any nginx config, includes resolved, `nginx -T` dumps too.
 * Exit 1 when an error-level finding exists, 0 otherwise; unreadable input is a
 * UsageError (exit 2).
 */
import { ExitCode, UsageError } from '../errors.js';
import { lintFiles } from '../lint/lintFiles.js';
import { formatSarif, formatText, type LintReport } from '../lint/report.js';


export interface LintOptions {
  files: string[];
  format: 'text' | 'json' | 'sarif';
  /** nginx's `-p`: the base of a relative `confDir`. */
  prefix?: string;
  /** nginx's conf prefix (the directory of the main nginx.conf), where relative includes resolve. */
  confDir?: string;
}

export interface LintResult {
  report: LintReport;
  format: LintOptions['format'];
  exitCode: ExitCode;
}

/** Data only: the report and the exit code; formatLintOutput turns it into text, JSON or SARIF. */
export async function runLint(options: LintOptions): Promise<LintResult> {
  if (options.files.length === 0) throw new UsageError('mirror lint needs at least one nginx config file');
  const report = await lintFiles(options.files, { ...(options.prefix ? { prefix: options.prefix } : {}), ...(options.confDir ? { confDir: options.confDir } : {}) });
  return { report, format: options.format, exitCode: report.counts.error > 0 ? ExitCode.checkFailed : ExitCode.ok };
}

export function formatLintOutput(result: LintResult): string {
  const { report, format } = result;
  return format === 'json' ? JSON.stringify(report, null, 2) : format === 'sarif' ? formatSarif(report) : formatText(report);
}
