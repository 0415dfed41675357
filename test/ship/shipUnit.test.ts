/** `mirror render ship-unit`: a systemd unit that restarts on failure, runs as the log reader, and may write only its state. */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { runMirror } from '../support/cli.js';
import { shipNodeOptions } from '../../src/ship/shipHeap.js';
import { exampleConfig, withValue, writeConfigFile } from '../support/config.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

describe('mirror render ship-unit', () => {
  it('writes the unit: the config, the user, restart on failure, no privileges, state paths writable (snapshot; systemd-analyze verify)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mirror-unit-'));
    dirs.push(dir);
    const tree = withValue(withValue(exampleConfig(), 'mirror.transport', 'ship'), 'apiGateway.trustedCertificate', '/etc/ssl/certs/ca-certificates.crt');
    tree.ship = { checkpoint: '/var/lib/mirror/checkpoint.json', ackLog: '/var/lib/mirror/ack.log' };
    const config = await writeConfigFile(tree, dir);
    const run = await runMirror(['render', 'ship-unit', '--config', config, '--out', join(dir, 'unit.service'), '--mirror-command', process.execPath, '--user', 'nginxlog'], { cwd: dir });
    expect(run.stderr).toBe('');
    expect(run.exitCode).toBe(0);
    const unit = await readFile(join(dir, 'unit.service'), 'utf8');
    expect(unit).toContain(`ExecStart=${process.execPath} ship --config ${config}\n`);
    expect(unit).toMatch(/^User=nginxlog$/m);
    expect(unit).toMatch(/^Restart=on-failure$/m);
    expect(unit).toMatch(/^NoNewPrivileges=yes$/m);
    expect(unit).toMatch(/^CapabilityBoundingSet=$/m);
    expect(unit).toMatch(/^ProtectSystem=strict$/m);
    expect(unit).toMatch(/^ReadOnlyPaths=\/var\/log\/nginx$/m);
    expect(unit.match(/^ReadWritePaths=.*$/gm)).toEqual(['ReadWritePaths=/var/lib/mirror']);
    expect(unit).toMatch(/^TimeoutStopSec=15s$/m);
    // The environment the benchmark measures the shipper with (the default window, 256).
    expect(unit).toContain(`\nEnvironment="NODE_OPTIONS=${shipNodeOptions(256).join(' ')}"\nEnvironment=MALLOC_ARENA_MAX=2\n`);
    const stable = unit.replaceAll(config, '/etc/mirror/mirror.yaml').replaceAll(process.execPath, '/usr/local/bin/mirror').replaceAll(dir, '/srv/mirror');
    await expect(stable).toMatchFileSnapshot('__snapshots__/mirror-ship-bizppurio.service');

    // systemd's own check of the unit file (unknown users are not its concern offline).
    const verify = await execa('systemd-analyze', ['verify', join(dir, 'unit.service')], { reject: false });
    expect(verify.stderr.split('\n').filter((l) => l && !/Failed to resolve (user|group)|nginx\.service|network-online|unit\.service: Command .* is not executable/.test(l))).toEqual([]);
  });

  it("caps node's old space by the window: a larger window has room for its callbacks in flight", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mirror-unit-'));
    dirs.push(dir);
    const tree = withValue(exampleConfig(), 'mirror.transport', 'ship');
    tree.ship = { window: 10_000 };
    const run = await runMirror(['render', 'ship-unit', '--config', await writeConfigFile(tree, dir), '--stdout']);
    expect(run.exitCode).toBe(0);
    const oldSpaceMiB = (unit: string) => Number(/^Environment="NODE_OPTIONS=.*--max-old-space-size=(\d+)"$/m.exec(unit)?.[1]);
    // 42 MiB at the default window (what is live there is 20 to 26 MiB); ~6 KiB more per callback in flight.
    expect(oldSpaceMiB(run.stdout)).toBe(40 + Math.ceil(10_000 / 128));
    expect(shipNodeOptions(256)).toEqual(['--max-semi-space-size=4', '--max-old-space-size=42']);
  });

  it('refuses a user name that is not one: exit 2', async () => {
    const config = await writeConfigFile(withValue(exampleConfig(), 'mirror.transport', 'ship'));
    const run = await runMirror(['render', 'ship-unit', '--config', config, '--stdout', '--user', 'root\nExecStartPre=/bin/sh']);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toMatch(/--user "root\\nExecStartPre=\/bin\/sh": expected a system user name/);
  });
});
