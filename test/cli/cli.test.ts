/** The `mirror` binary as a user runs it: a process, its stdout/stderr and its exit code. */
import { describe, expect, it } from 'vitest';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { parse } from 'yaml';
import { exampleConfig, withValue, writeConfigFile } from '../support/config.js';
import { runMirror } from '../support/cli.js';

function mirror(args: string[], cwd?: string) {
  return runMirror(args, cwd ? { cwd } : {});
}

describe('mirror CLI', () => {
  it('init writes a commented config that validates, and never overwrites without --force', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mirror-cli-'));
    const first = await mirror(['init'], dir);
    expect(first.exitCode).toBe(0);
    const text = await readFile(join(dir, 'mirror.yaml'), 'utf8');
    expect(text).toMatch(/^#/m);
    expect(parse(text)).toMatchObject({ vendor: 'bizppurio', phase: 'off' });
    await writeFile(join(dir, 'mirror.yaml'), 'edited: true\n');
    const again = await mirror(['init'], dir);
    expect(again.exitCode).toBe(2);
    expect(again.stderr).toMatch(/--force/);
    expect(await readFile(join(dir, 'mirror.yaml'), 'utf8')).toBe('edited: true\n');
    expect((await mirror(['init', '--force'], dir)).exitCode).toBe(0);
  });

  it('render --stdout prints both includes and where they go; a bad value exits 2 naming the key', async () => {
    const config = await writeConfigFile(exampleConfig());
    const ok = await mirror(['render', '-c', config, '--stdout']);
    expect(ok.exitCode).toBe(0);
    expect(ok.stdout).toMatch(/location = \/_mirror\/bizppurio/);
    expect(ok.stdout).toMatch(/log_format mirror_bizppurio_parity/);
    const bad = await writeConfigFile(withValue(exampleConfig(), 'callback.path', '/x; return 200'));
    const refused = await mirror(['render', '-c', bad, '--stdout']);
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toMatch(/callback\.path/);
    expect(refused.stdout).not.toMatch(/return 200/);
  });

  it('validate exits 0 on the example config and 2 on an unknown phase', async () => {
    const config = await writeConfigFile(exampleConfig());
    const ok = await mirror(['validate', '-c', config]);
    expect(ok.stdout).toMatch(/^VALID: shadow phase/);
    expect(ok.exitCode).toBe(0);
    const bad = await mirror(['validate', '-c', config, '--phase', 'sideways']);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toMatch(/sideways/);
  });

  it('lint exits 1 on the seed config, 0 on a clean one, 2 on a missing file', async () => {
    const seed = fileURLToPath(new URL('../../nginx/examples/seed-nginx.conf', import.meta.url));
    const failed = await mirror(['lint', seed]);
    expect(failed.exitCode).toBe(1);
    expect(failed.stdout).toMatch(/proxy-pass-variable-without-resolver/);
    const sarif = await mirror(['lint', '--format', 'sarif', seed]);
    expect(JSON.parse(sarif.stdout)).toMatchObject({ version: '2.1.0' });
    const missing = await mirror(['lint', '/nonexistent/nginx.conf']);
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toMatch(/\/nonexistent\/nginx\.conf/);
  });

  it('doctor reports an argument other than - as a usage error (exit 2) the way every command does', async () => {
    const run = await mirror(['doctor', 'error.log']);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toMatch(/^mirror: doctor: unexpected argument "error\.log"; expected - \(standard input\)$/m);
    expect(run.stdout).toBe('');
  });
});
