/**
 * Registers the commands. Each `src/commands/<name>.command.ts` declares its own
 * flags, `run` and formatter through src/commands/define.ts, which writes the
 * shared flags, the text/JSON switch and the signal handling once; every `run`
 * imports its command lazily, so `mirror --help` loads no AWS SDK. Exit codes come
 * from results and typed errors, in src/cli.ts.
 */
import { Command } from 'commander';
import type { Emit, MirrorCommand } from './commands/define.js';
import { initCommand } from './commands/init.command.js';
import { renderCommand } from './commands/render.command.js';
import { validateCommand } from './commands/validate.command.js';
import { lintCommand } from './commands/lint.command.js';
import { demoCommand } from './commands/demo.command.js';
import { verifyCommand } from './commands/verify.command.js';
import { shipCommand } from './commands/ship.command.js';
import { sandboxCommand } from './commands/sandbox.command.js';
import { probeCommand } from './commands/probe.command.js';
import { cutoverCommand } from './commands/cutover.command.js';
import { doctorCommand } from './commands/doctor.command.js';

export type { CommandOutput } from './commands/define.js';

/** Every command, in the order `mirror --help` lists them. A test checks that no `*.command.ts` is missing. */
export const commands: readonly MirrorCommand[] = [
  initCommand,
  renderCommand,
  validateCommand,
  lintCommand,
  demoCommand,
  verifyCommand,
  shipCommand,
  sandboxCommand,
  probeCommand,
  cutoverCommand,
  doctorCommand,
];

export function buildProgram(emit: Emit): Command {
  const program = new Command('mirror')
    .description('Move webhook callback intake from nginx to Amazon API Gateway + SQS without losing a message.')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    // Set before any subcommand exists so each inherits it: usage errors reach
    // src/cli.ts as CommanderError (exit 2), not as commander's own exit 1.
    .exitOverride();
  for (const command of commands) command.register(program, emit);
  return program;
}
