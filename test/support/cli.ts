/** `mirror ARGS` as a user runs it: the CLI from the sources, in a process of its own. */
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';

const cli = fileURLToPath(new URL('../../src/cli.ts', import.meta.url));
const tsx = import.meta.resolve('tsx/esm');

export interface MirrorRunOptions {
  cwd?: string;
  env?: Record<string, string>;
  timeout?: number;
  stdin?: 'ignore';
}

/** Resolves with the exit code, stdout and stderr, whatever the exit code. */
export function runMirror(args: string[], options: MirrorRunOptions = {}) {
  return execa(process.execPath, ['--import', tsx, cli, ...args], { reject: false, timeout: 120_000, ...options });
}
