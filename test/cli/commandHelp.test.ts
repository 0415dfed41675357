/**
 * `mirror <command> --help`, as a user runs it, still lists every flag the command
 * had before each command declared itself (issue 8): the table below is that list,
 * in help order, written out so a flag lost from a definition fails here.
 */
import { describe, expect, it } from 'vitest';
import { runMirror } from '../support/cli.js';

const expectedFlags: Record<string, string[]> = {
  init: ['--vendor', '--out', '--force', '--json'],
  render: ['--config', '--phase', '--format', '--out', '--stdout', '--user', '--group', '--mirror-command', '--json'],
  validate: ['--config', '--phase', '--nginx', '--keep', '--json'],
  lint: ['--format', '--json', '--prefix', '--conf-dir'],
  demo: ['--rate', '--soak', '--listen', '--nginx', '--keep', '--config', '--transport', '--consumer', '--json'],
  verify: [
    '--config', '--parity-log', '--sqs-archive', '--mode', '--ack-log', '--archive', '--since', '--until', '--grace', '--match', '--gate',
    '--min-sample', '--receivers', '--allow-redrive-receives', '--show-bodies', '--no-redact', '--json', '--watch', '--listen', '--cutover-state',
  ],
  ship: ['--config', '--parity-log', '--listen', '--json'],
  'sandbox up': ['--dir', '--json', '--phase', '--sample', '--config', '--consumer'],
  'sandbox down': ['--dir', '--json'],
  'sandbox status': ['--dir', '--json'],
  probe: ['--config', '--phase', '--count', '--through-nginx', '--nginx-url', '--timeout', '--connect-to', '--ca', '--json'],
  'cutover plan': ['--config', '--state', '--json'],
  'cutover status': ['--config', '--state', '--no-gate', '--no-probe', '--probe-connect-to', '--probe-ca', '--soak', '--parity-log', '--nginx', '--json'],
  'cutover advance': [
    '--config', '--state', '--to', '--dry-run', '--nginx-dir', '--nginx', '--test-command', '--reload', '--reload-command', '--pid-file',
    '--error-log', '--reload-timeout', '--json', '--force', '--reason', '--soak', '--parity-log', '--no-probe', '--probe-connect-to', '--probe-ca',
  ],
  'cutover rollback': [
    '--config', '--state', '--to', '--dry-run', '--nginx-dir', '--nginx', '--test-command', '--reload', '--reload-command', '--pid-file',
    '--error-log', '--reload-timeout', '--json',
  ],
  doctor: ['--error-log', '--config', '--text', '--json'],
};

/** The long flags of the Options section, in order (a flag's line starts with it; wrapped descriptions do not). */
function listedFlags(help: string): string[] {
  const options = help.split(/^Options:$/m)[1] ?? '';
  return [...options.matchAll(/^ {2}(?:-\w, )?(--[a-z][\w-]*)/gm)].map((m) => m[1]!).filter((flag) => flag !== '--help');
}

describe('mirror <command> --help', () => {
  it.each(Object.entries(expectedFlags))('%s lists its flags', async (command, flags) => {
    const run = await runMirror([...command.split(' '), '--help']);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(listedFlags(run.stdout)).toEqual(flags);
  });

  it('mirror --help lists every command', async () => {
    const run = await runMirror(['--help']);
    expect(run.exitCode, run.stderr).toBe(0);
    const listed = [...run.stdout.split(/^Commands:$/m)[1]!.matchAll(/^ {2}([a-z]+)/gm)].map((m) => m[1]);
    expect(listed).toEqual(['init', 'render', 'validate', 'lint', 'demo', 'verify', 'ship', 'sandbox', 'probe', 'cutover', 'doctor', 'help']);
  });
});
