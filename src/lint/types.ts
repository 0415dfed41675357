/** What a lint rule reports, and what a rule is. */
import type { LintContext } from './context.js';

export type Severity = 'error' | 'warning' | 'info';

export interface Finding {
  ruleId: string;
  severity: Severity;
  message: string;
  file: string;
  line: number;
  /** The fix, in one or two sentences. */
  help: string;
}

export interface LintRule {
  id: string;
  severity: Severity;
  summary: string;
  help: string;
  /** A finding may lower its own severity when the config does not tell enough to be sure (a variable whose value is unknown). */
  check(ctx: LintContext): { message: string; at: { file: string; line: number }; severity?: Severity }[];
}
