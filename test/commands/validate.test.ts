/** `mirror validate` through the real nginx -t and the lint, for every phase. */
import { describe, expect, it } from 'vitest';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runValidate, formatValidateText } from '../../src/commands/validate.js';
import { phases } from '../../src/config/phases.js';
import { ConfigError, ExitCode, MissingDependencyError } from '../../src/errors.js';
import { exampleConfig, withValue, writeConfigFile } from '../support/config.js';

describe('mirror validate', () => {
  for (const phase of phases) {
    for (const sample of [0, 50, 100]) {
      it(`${phase} phase, sample ${sample}: nginx -t passes and the lint finds no error or warning`, async () => {
        const config = await writeConfigFile(withValue(withValue(exampleConfig(), 'phase', phase), 'mirror.sample', sample));
        const result = await runValidate({ config });
        expect(result.nginxTest.messages.filter((m) => m.level !== 'notice')).toEqual([]);
        expect(result.nginxTest.ok).toBe(true);
        expect(result.lint.findings.filter((f) => f.severity !== 'info')).toEqual([]);
        expect(result.exitCode).toBe(ExitCode.ok);
        expect(formatValidateText(result)).toMatch(new RegExp(`^VALID: ${phase} phase`));
      });
    }
  }

  it('an origin named by host is checked offline through a stub upstream', async () => {
    const config = await writeConfigFile(withValue(exampleConfig(), 'callback.upstream', 'http://app-backend'));
    const result = await runValidate({ config });
    expect(result.exitCode).toBe(ExitCode.ok);
    expect(result.notes.join('\n')).toMatch(/app-backend was declared as a stub upstream/);
  });

  it('reports an nginx -t failure the config schema cannot see: exit 1', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mirror-validate-'));
    const notACertificate = join(dir, 'not-a-cert.pem');
    await writeFile(notACertificate, 'this is not PEM\n');
    const config = await writeConfigFile(withValue(exampleConfig(), 'apiGateway.trustedCertificate', notACertificate), dir);
    const result = await runValidate({ config });
    expect(result.exitCode).toBe(ExitCode.checkFailed);
    expect(result.nginxTest.ok).toBe(false);
    // nginx loads certificates after parsing, so this message names no file or line.
    expect(result.nginxTest.messages.find((m) => m.level === 'emerg')?.text).toContain(notACertificate);
    expect(formatValidateText(result)).toMatch(/^INVALID: shadow phase \(nginx -t failed/);
  });

  it('says how to install nginx when it is missing: exit 3', async () => {
    const config = await writeConfigFile(exampleConfig());
    const error = await runValidate({ config, nginx: '/nonexistent/sbin/nginx' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MissingDependencyError);
    expect((error as MissingDependencyError).exitCode).toBe(ExitCode.missingDependency);
    expect([(error as Error).message, ...(error as MissingDependencyError).details].join('\n')).toMatch(/apt-get install/);
  });

  it('refuses a bad config before touching nginx: exit 2 naming the key', async () => {
    const config = await writeConfigFile(withValue(exampleConfig(), 'mirror.sample', 101));
    const error = await runValidate({ config }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues.map((i) => i.path)).toEqual(['mirror.sample']);
  });
});
