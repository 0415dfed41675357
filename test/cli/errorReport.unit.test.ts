/** The bin entry's exit-code policy, for each kind of error a command can throw. */
import { describe, expect, it } from 'vitest';
import { CommanderError } from 'commander';
import { reportError } from '../../src/errorReport.js';
import { ConfigError, MissingDependencyError } from '../../src/errors.js';
import { nginxArg, UnsafeNginxValueError } from '../../src/render/nginxArg.js';

function report(error: unknown): { exitCode: number; stderr: string } {
  let stderr = '';
  const exitCode = reportError(error, { write: (text: string) => ((stderr += text), true) });
  return { exitCode, stderr };
}

describe('the CLI exit-code policy', () => {
  it('reports a value the serializer refuses as exit 2 naming the key, not as an unexpected error', () => {
    const refused = (() => {
      try {
        nginxArg('/x; return 200', 'callback.path');
      } catch (error) {
        return error;
      }
    })();
    expect(refused).toBeInstanceOf(UnsafeNginxValueError);
    const { exitCode, stderr } = report(refused);
    expect(exitCode).toBe(2);
    expect(stderr).toMatch(/^mirror: callback\.path: refusing to render "\/x; return 200" into nginx config\n$/);
    expect(stderr).not.toMatch(/unexpected/);
  });

  it('keeps the code of each typed error, 2 for commander usage errors, 0 for help, 1 with the stack for anything else', () => {
    expect(report(new ConfigError('mirror.yaml', [{ path: 'sqs.queueUrl', message: 'expected a URL' }])).exitCode).toBe(2);
    expect(report(new MissingDependencyError('nginx not found')).exitCode).toBe(3);
    expect(report(new CommanderError(1, 'commander.unknownOption', 'unknown option')).exitCode).toBe(2);
    expect(report(new CommanderError(0, 'commander.helpDisplayed', '(help)')).exitCode).toBe(0);
    const unexpected = report(new TypeError('boom'));
    expect(unexpected.exitCode).toBe(1);
    expect(unexpected.stderr).toMatch(/^mirror: unexpected error: TypeError: boom\n\s+at /);
  });
});
