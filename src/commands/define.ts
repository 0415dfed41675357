/**
 * What every command shares, written once: the shape of a command definition, the
 * shared flags (`--json`, `-c/--config`, `--phase`), the text/JSON switch, and the
 * SIGINT/SIGTERM handling of long-running commands. Each `<name>.command.ts` beside
 * this file declares one command (or a group of subcommands) with `defineCommand`;
 * src/program.ts registers them in a loop. Nothing here imports a heavy module: a
 * definition's `run` imports its command lazily, so `mirror --help` loads no AWS SDK.
 */
import { Command, Option } from 'commander';
import { phases } from '../config/phases.js';

export interface CommandOutput {
  exitCode: number;
  /** What goes to stdout: one JSON document with --json, text otherwise. */
  stdout: string;
}

export type Emit = (output: CommandOutput) => void;

/** The options every `run` receives besides its own flags. */
interface SharedFlags {
  json?: boolean;
}

interface RunContext {
  /** Aborted on SIGINT/SIGTERM when the definition is `interruptible`; never aborted otherwise. */
  signal: AbortSignal;
}

export interface CommandDefinition<Opts, Args extends unknown[], Result extends { exitCode: number }> {
  name: string;
  description: string;
  /** Positional arguments in commander's syntax (`[what]`, `<file...>`), in order. */
  arguments?: readonly { syntax: string; description: string }[];
  /** In help order; exactly one of them is `jsonOption(...)`. */
  options: readonly Option[];
  /** Listen for SIGINT/SIGTERM while `run` runs and abort `context.signal` on either (a function: only for these flags). */
  interruptible?: boolean | ((opts: Opts & SharedFlags) => boolean);
  run(opts: Opts & SharedFlags, args: Args, context: RunContext): Promise<Result>;
  /** stdout without --json; may be async to import its formatter lazily, beside the command. */
  formatText(result: Result): string | Promise<string>;
  /** stdout with --json (default: the result as indented JSON). */
  formatJson?(result: Result): string | Promise<string>;
}

/** A definition with its types closed over: what program.ts and the tests handle. */
export interface MirrorCommand {
  readonly name: string;
  /** Adds the command (and its subcommands) to `parent`; `parent.command()` so commander's inherited settings (exitOverride) apply. */
  register(parent: Command, emit: Emit): Command;
}

const jsonOptions = new WeakSet<Option>();

/** `--json`, the one declaration of it: the text/JSON switch in `defineCommand` reads it. */
export function jsonOption(description = 'print the result as JSON'): Option {
  const option = new Option('--json', description);
  jsonOptions.add(option);
  return option;
}

/** Whether `option` is the shared `--json` (tests: no command declares its own). */
export function isSharedJsonOption(option: Option): boolean {
  return jsonOptions.has(option);
}

/**
 * `-c, --config <file>`. Without a description: the config the command needs
 * (default mirror.yaml). With one: an optional config the command can also use.
 */
export function configOption(description?: string): Option {
  return description === undefined
    ? new Option('-c, --config <file>', 'config file').default('mirror.yaml')
    : new Option('-c, --config <file>', description);
}

export function phaseOption(description = "phase to render (default: the config's phase)"): Option {
  return new Option('--phase <phase>', description).choices(phases);
}

/** A plain flag, as commander's `.option(flags, description, default)` takes it. */
export function option(flags: string, description: string, defaultValue?: string | boolean): Option {
  const o = new Option(flags, description);
  return defaultValue === undefined ? o : o.default(defaultValue);
}

function pretty(value: unknown): string {
  return JSON.stringify(value, null, 2);
}

/** Runs `work` with an AbortSignal that SIGINT or SIGTERM aborts; the listeners are gone afterwards. */
async function withInterrupt<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const stop = new AbortController();
  const interrupt = () => stop.abort();
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  try {
    return await work(stop.signal);
  } finally {
    process.removeListener('SIGINT', interrupt);
    process.removeListener('SIGTERM', interrupt);
  }
}

export function defineCommand<Opts, Args extends unknown[], Result extends { exitCode: number }>(
  definition: CommandDefinition<Opts, Args, Result>,
): MirrorCommand {
  const jsonCount = definition.options.filter((o) => o.long === '--json').length;
  if (jsonCount !== 1 || !definition.options.some(isSharedJsonOption)) {
    throw new Error(`command ${definition.name}: declare --json exactly once, with jsonOption()`);
  }
  return {
    name: definition.name,
    register(parent, emit) {
      const command = parent.command(definition.name).description(definition.description);
      for (const argument of definition.arguments ?? []) command.argument(argument.syntax, argument.description);
      for (const o of definition.options) command.addOption(o);
      command.action(async (...params: unknown[]) => {
        // commander passes the positional arguments, then the options, then the command.
        const args = params.slice(0, -2) as Args;
        const opts = params.at(-2) as Opts & SharedFlags;
        const interruptible = typeof definition.interruptible === 'function' ? definition.interruptible(opts) : definition.interruptible;
        const result = interruptible
          ? await withInterrupt((signal) => definition.run(opts, args, { signal }))
          : await definition.run(opts, args, { signal: new AbortController().signal });
        const stdout = await (opts.json ? (definition.formatJson ?? pretty)(result) : definition.formatText(result));
        emit({ exitCode: result.exitCode, stdout });
      });
      return command;
    },
  };
}

/** A command that only holds subcommands (`mirror sandbox up|down|status`). */
export function defineGroup(name: string, description: string, subcommands: readonly MirrorCommand[]): MirrorCommand {
  return {
    name,
    register(parent, emit) {
      const group = parent.command(name).description(description);
      for (const sub of subcommands) sub.register(group, emit);
      return group;
    },
  };
}
