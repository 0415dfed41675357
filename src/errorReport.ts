/**
 * The exit-code policy of the bin entry (PRODUCT.md): commander's usage errors are
 * 2, typed errors carry their own code and print their details, anything unexpected
 * is 1 with its stack. Apart from src/cli.ts so it can be tested without running it.
 */
import { CommanderError } from 'commander';
import { ExitCode, MirrorError } from './errors.js';

export function reportError(error: unknown, stderr: Pick<NodeJS.WritableStream, 'write'> = process.stderr): number {
  if (error instanceof CommanderError) {
    // Help and version are exits through commander too; they are successes.
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') {
      return ExitCode.ok;
    }
    return ExitCode.usage;
  }
  if (error instanceof MirrorError) {
    stderr.write(`mirror: ${error.message}\n`);
    for (const line of error.details) stderr.write(`  ${line}\n`);
    return error.exitCode;
  }
  stderr.write(`mirror: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  return ExitCode.checkFailed;
}
