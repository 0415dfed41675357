/**
 * With mirror.transport: ship, `cutover advance` into a shadow phase starts
 * nothing itself: it refuses while the shipper's checkpoint is missing or older
 * than ship.maxCheckpointAge, and goes ahead once a real `mirror ship` process
 * keeps it fresh.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { exampleConfig, withValue, writeConfigFile } from '../support/config.js';
import { runMirror } from '../support/cli.js';
import { waitFor } from '../../src/os/childProcess.js';
import { freePort } from '../../src/os/freePort.js';
import { judgeShipperCheckpoint } from '../../src/cutover/shipperRunning.js';
import { stringify } from 'yaml';
import { parseConfigText } from '../../src/config/load.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

async function shipSetup() {
  const dir = await mkdtemp(join(tmpdir(), 'mirror-cutover-ship-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  await mkdir(join(dir, 'logs'));
  await writeFile(join(dir, 'logs/parity.log'), '');
  let tree = withValue(exampleConfig(), 'phase', 'off');
  tree = withValue(tree, 'mirror.transport', 'ship');
  tree = withValue(tree, 'parityLog.path', join(dir, 'logs/parity.log'));
  tree.ship = { checkpoint: join(dir, 'state/checkpoint.json'), ackLog: join(dir, 'state/ack.log'), listen: `127.0.0.1:${await freePort()}`, maxCheckpointAge: '4s' };
  const config = await writeConfigFile(tree, dir);
  const advance = () =>
    runMirror(['cutover', 'advance', '-c', config, '--state', join(dir, 'state.json'), '--nginx-dir', join(dir, 'nginx'), '--dry-run', '--no-probe', '--force', '--reason', 'test: no SQS here', '--json']);
  return { dir, config, checkpoint: join(dir, 'state/checkpoint.json'), advance };
}

describe('cutover advance with mirror.transport: ship', () => {
  it('refuses while the shipper has not run, goes ahead while it runs, refuses again once it stopped', async () => {
    const s = await shipSetup();
    const before = await s.advance();
    expect(before.exitCode, before.stderr).toBe(1);
    const refused = JSON.parse(before.stdout) as { outcome: string; problems: string[] };
    expect(refused.outcome).toBe('refused');
    expect(refused.problems.join('\n')).toMatch(/checkpoint .* does not exist/);
    expect(refused.problems.join('\n')).toMatch(/mirror ship -c/);

    const shipper = runMirror(['ship', '--config', s.config], { timeout: 120_000 });
    cleanups.push(async () => {
      shipper.kill('SIGKILL');
      await shipper;
    });
    await waitFor(async () => (await readFile(s.checkpoint, 'utf8').catch(() => '')).includes('"time"'), { timeoutMs: 30_000, what: 'the shipper writing its checkpoint', child: shipper });
    // Idle (the log is empty), it still rewrites the checkpoint: its time is the heartbeat.
    const first = JSON.parse(await readFile(s.checkpoint, 'utf8')).time as string;
    await waitFor(async () => JSON.parse(await readFile(s.checkpoint, 'utf8')).time !== first, { timeoutMs: 20_000, what: 'the idle shipper rewriting its checkpoint', child: shipper });
    const running = await s.advance();
    expect(running.exitCode, running.stderr).toBe(0);
    const done = JSON.parse(running.stdout) as { outcome: string; to: string; notes: string[] };
    expect(done).toMatchObject({ outcome: 'dry-run', to: 'shadow' });
    expect(done.notes.join('\n')).toMatch(/the shipper is running/);

    shipper.kill('SIGTERM');
    expect((await shipper).exitCode).toBe(0);
    await waitFor(async () => Date.now() - Date.parse(JSON.parse(await readFile(s.checkpoint, 'utf8')).time) > 4500, { timeoutMs: 15_000, what: 'the checkpoint aging past 4 s' });
    const after = await s.advance();
    expect(after.exitCode, after.stderr).toBe(1);
    expect((JSON.parse(after.stdout) as { problems: string[] }).problems.join('\n')).toMatch(/older than ship.maxCheckpointAge 4s: the shipper is not running/);
  }, 120_000);

  it('judges only shadow phases, and only with ship', () => {
    const ship = parseConfigText(stringify(withValue(withValue(exampleConfig(), 'mirror.transport', 'ship'), 'ship', { maxCheckpointAge: '30s' })), 'test').config;
    const nginx = parseConfigText(stringify(exampleConfig()), 'test').config;
    const now = new Date('2026-11-30T05:00:00Z');
    const at = (secondsAgo: number) => ({ v: 1 as const, time: new Date(now.getTime() - secondsAgo * 1000).toISOString(), files: [] });
    expect(judgeShipperCheckpoint(nginx, 'shadow', undefined, now)).toEqual({ needed: false });
    expect(judgeShipperCheckpoint(ship, 'primary', undefined, now)).toEqual({ needed: false });
    expect(judgeShipperCheckpoint(ship, 'shadow-domain', at(10), now)).toEqual({ needed: true, ok: true, ageMs: 10_000 });
    expect(judgeShipperCheckpoint(ship, 'shadow-domain', at(31), now)).toMatchObject({ needed: true, ok: false, problem: expect.stringMatching(/31 s ago/) });
    expect(judgeShipperCheckpoint(ship, 'shadow', { unreadable: 'not JSON' }, now)).toMatchObject({ ok: false, problem: expect.stringMatching(/not JSON/) });
  });
});
