/**
 * Typed errors carry the exit code of PRODUCT.md. Commands throw them; only the
 * bin entry (src/cli.ts) turns them into `process.exitCode`.
 */
export const ExitCode = {
  ok: 0,
  checkFailed: 1,
  usage: 2,
  missingDependency: 3,
  inconclusive: 4,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export abstract class MirrorError extends Error {
  abstract readonly exitCode: ExitCode;
  /** Extra lines printed under the message (fix hints, one problem per line). */
  readonly details: readonly string[];
  constructor(message: string, details: readonly string[] = []) {
    super(message);
    this.name = new.target.name;
    this.details = details;
  }
}

/** Bad flag, bad argument, unreadable input file: exit 2. */
export class UsageError extends MirrorError {
  readonly exitCode = ExitCode.usage;
}

export interface ConfigIssue {
  /** Dotted key path, e.g. `apiGateway.region`. */
  path: string;
  /** What was wrong and what was expected. */
  message: string;
}

/** The config file failed the schema or a rule: exit 2, one line per issue. */
export class ConfigError extends MirrorError {
  readonly exitCode = ExitCode.usage;
  readonly issues: readonly ConfigIssue[];
  constructor(source: string, issues: readonly ConfigIssue[]) {
    super(
      `${source}: ${issues.length} problem${issues.length === 1 ? '' : 's'} in the config`,
      issues.map((i) => `${i.path || '(root)'}: ${i.message}`),
    );
    this.issues = issues;
  }
}

/** A program or service the command needs is missing or unreachable: exit 3. */
export class MissingDependencyError extends MirrorError {
  readonly exitCode = ExitCode.missingDependency;
}

/** A check ran and failed (nginx -t, lint errors, a gate): exit 1. */
export class CheckFailedError extends MirrorError {
  readonly exitCode = ExitCode.checkFailed;
}
