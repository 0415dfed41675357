/**
 * Wires commander to the command functions. Nothing else: each action imports its
 * command lazily (so `mirror --help` loads no AWS SDK), calls it, and hands the
 * result to `emit`. Exit codes come from results and typed errors, in src/cli.ts.
 */
import { Command, Option } from 'commander';
import { phases } from './config/phases.js';

export interface CommandOutput {
  exitCode: number;
  /** What goes to stdout: one JSON document with --json, text otherwise. */
  stdout: string;
}

type Emit = (output: CommandOutput) => void;

const phaseOption = () => new Option('--phase <phase>', 'phase to render (default: the config\'s phase)').choices(phases);
const configOption = () => new Option('-c, --config <file>', 'config file').default('mirror.yaml');

function json(value: unknown): string {
  return JSON.stringify(value, null, 2);
}

export function buildProgram(emit: Emit): Command {
  const program = new Command('mirror')
    .description('Move webhook callback intake from nginx to Amazon API Gateway + SQS without losing a message.')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    // Set before any subcommand exists so each inherits it: usage errors reach
    // src/cli.ts as CommanderError (exit 2), not as commander's own exit 1.
    .exitOverride();

  program
    .command('init')
    .description('write a commented starter config for a vendor preset')
    .option('--vendor <vendor>', 'vendor preset', 'bizppurio')
    .option('--out <file>', 'where to write it', 'mirror.yaml')
    .option('--force', 'overwrite an existing file')
    .option('--json', 'print the result as JSON')
    .action(async (opts) => {
      const { runInit } = await import('./commands/init.js');
      const result = await runInit(opts);
      emit({ exitCode: result.exitCode, stdout: opts.json ? json(result) : `wrote ${result.path} (vendor ${result.vendor}); edit it, then run: mirror validate` });
    });

  program
    .command('render')
    .description('render the nginx include files for a phase')
    .addOption(configOption())
    .addOption(phaseOption())
    .option('--out <dir>', 'directory to write the include files to', 'mirror-nginx')
    .option('--stdout', 'print the files instead of writing them')
    .option('--json', 'print the result as JSON')
    .action(async (opts) => {
      const { runRender, formatRenderText } = await import('./commands/render.js');
      const result = await runRender(opts);
      emit({ exitCode: result.exitCode, stdout: opts.json ? json(result) : formatRenderText(result) });
    });

  program
    .command('validate')
    .description('render into a throwaway prefix, run the real nginx -t, and lint what nginx -t cannot see')
    .addOption(configOption())
    .addOption(phaseOption())
    .option('--nginx <path>', 'nginx binary (default: nginx on PATH or /usr/sbin/nginx)')
    .option('--keep', 'keep the throwaway prefix and print its path')
    .option('--json', 'print the result as JSON')
    .action(async (opts) => {
      const { runValidate, formatValidateText } = await import('./commands/validate.js');
      const result = await runValidate(opts);
      emit({ exitCode: result.exitCode, stdout: opts.json ? json(result) : formatValidateText(result) });
    });

  program
    .command('lint')
    .description('static checks nginx -t cannot do, on any nginx config (includes resolved; nginx -T dumps too)')
    .argument('<file...>', 'nginx config files')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json', 'sarif']).default('text'))
    .option('--json', 'same as --format json')
    .action(async (files: string[], opts) => {
      const { runLint } = await import('./commands/lint.js');
      const result = await runLint({ files, format: opts.json ? 'json' : opts.format });
      emit({ exitCode: result.exitCode, stdout: result.output });
    });

  program
    .command('demo')
    .description('end to end on this machine: render, validate, and mirror callbacks through real nginx')
    .option('--count <n>', 'callbacks to send', '20')
    .option('--nginx <path>', 'nginx binary')
    .option('--keep', 'leave the processes running until Ctrl-C')
    .option('--json', 'print the summary as JSON')
    .action(async (opts) => {
      const { runDemo, formatDemoText } = await import('./commands/demo.js');
      const result = await runDemo({ ...opts, count: Number(opts.count), progress: opts.json ? undefined : (line: string) => process.stderr.write(`${line}\n`) });
      emit({ exitCode: result.exitCode, stdout: opts.json ? json(result) : formatDemoText(result) });
    });

  program
    .command('doctor')
    .description('name each known failure in nginx error logs or API Gateway test/execution output, with its cause and fix')
    .argument('[stdin]', '- to read standard input')
    .option('--error-log <file...>', 'nginx error log or saved API Gateway output')
    .option('--text <message>', 'one pasted message')
    .option('--json', 'print the report as JSON')
    .action(async (stdin: string | undefined, opts) => {
      if (stdin !== undefined && stdin !== '-') program.error(`doctor: unexpected argument "${stdin}"; expected - (standard input)`, { exitCode: 2 });
      const { runDoctor, formatDoctorText } = await import('./commands/doctor.js');
      const result = await runDoctor({ ...opts, stdin: stdin === '-' });
      emit({ exitCode: result.exitCode, stdout: opts.json ? json(result.report) : formatDoctorText(result.report) });
    });

  return program;
}
