/** The three output formats of `mirror lint`: text for people, JSON, and SARIF 2.1.0 for code scanning. */
import { rules } from './rules/index.js';
import type { Finding, Severity } from './types.js';

export interface LintReport {
  findings: Finding[];
  counts: Record<Severity, number>;
  files: string[];
  /** What lint chose not to read, and why (an include of this machine's /etc/nginx from a file given from elsewhere). */
  notes?: string[];
}

export function countFindings(findings: readonly Finding[]): Record<Severity, number> {
  const counts: Record<Severity, number> = { error: 0, warning: 0, info: 0 };
  for (const f of findings) counts[f.severity]++;
  return counts;
}

export function formatText(report: LintReport): string {
  const lines = report.findings.flatMap((f) => [`${f.file}:${f.line}: ${f.severity} ${f.ruleId}: ${f.message}`, `    fix: ${f.help}`]);
  for (const note of report.notes ?? []) lines.push(`note: ${note}`);
  const { error, warning, info } = report.counts;
  lines.push(`${error} error${error === 1 ? '' : 's'}, ${warning} warning${warning === 1 ? '' : 's'}, ${info} info in ${report.files.length} file${report.files.length === 1 ? '' : 's'}`);
  return lines.join('\n');
}

const sarifLevel: Record<Severity, 'error' | 'warning' | 'note'> = { error: 'error', warning: 'warning', info: 'note' };

export function formatSarif(report: LintReport): string {
  return JSON.stringify(
    {
      $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
      version: '2.1.0',
      runs: [
        {
          tool: {
            driver: {
              name: 'mirror lint',
              rules: rules.map((r) => ({
                id: r.id,
                shortDescription: { text: r.summary },
                help: { text: r.help },
                defaultConfiguration: { level: sarifLevel[r.severity] },
              })),
            },
          },
          results: report.findings.map((f) => ({
            ruleId: f.ruleId,
            level: sarifLevel[f.severity],
            message: { text: `${f.message}. Fix: ${f.help}` },
            locations: [{ physicalLocation: { artifactLocation: { uri: f.file }, region: { startLine: f.line } } }],
          })),
        },
      ],
    },
    null,
    2,
  );
}
