#!/usr/bin/env node
/**
 * The bin entry and the whole exit-code policy (PRODUCT.md): results carry their
 * exit code, typed errors carry theirs, commander's usage errors are 2, anything
 * unexpected is 1 with its stack. Sets process.exitCode so output flushes.
 */
import { ExitCode } from './errors.js';
import { reportError } from './errorReport.js';
import { buildProgram, type CommandOutput } from './program.js';

const minimumNodeMajor = 22;

async function main(argv: string[]): Promise<number> {
  const major = Number(process.versions.node.split('.')[0]);
  if (major < minimumNodeMajor) {
    process.stderr.write(
      `mirror needs Node >= ${minimumNodeMajor}; this is ${process.version}. ` +
        'Run `bash scripts/setup.sh` from the repository: it installs a portable Node 24 into .tools/.\n',
    );
    return ExitCode.missingDependency;
  }
  let exitCode: number = ExitCode.ok;
  const emit = (output: CommandOutput) => {
    if (output.stdout) process.stdout.write(output.stdout.endsWith('\n') ? output.stdout : `${output.stdout}\n`);
    exitCode = output.exitCode;
  };
  const program = buildProgram(emit).exitOverride();
  try {
    await program.parseAsync(argv);
    return exitCode;
  } catch (error) {
    return reportError(error);
  }
}

process.exitCode = await main(process.argv);
