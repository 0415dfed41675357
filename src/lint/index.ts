/** Lint a parsed config: every rule, findings sorted by file, line and rule. */
import { LintContext } from './context.js';
import type { Directive } from './parse.js';
import { rules } from './rules/index.js';
import type { Finding } from './types.js';

export function lintTree(tree: Directive[]): Finding[] {
  const ctx = new LintContext(tree);
  const findings = rules.flatMap((rule) =>
    rule.check(ctx).map((f) => ({ ruleId: rule.id, severity: f.severity ?? rule.severity, message: f.message, file: f.at.file, line: f.at.line, help: rule.help })),
  );
  const seen = new Set<string>();
  return findings
    .filter((f) => {
      const key = `${f.ruleId}|${f.file}|${f.line}`;
      return seen.has(key) ? false : (seen.add(key), true);
    })
    .sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.ruleId.localeCompare(b.ruleId));
}
