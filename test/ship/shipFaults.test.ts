/**
 * Faults, each through real nginx writing the parity log, the shipper as a
 * process of its own (the CLI), real TLS with the test CA, the gateway stand-in
 * and fauxqs: the gateway down and back, log rotation, nginx reloads under load,
 * a 429 storm and 5xx bursts. SIGKILL over 10,000 callbacks: shipKill.test.ts.
 */
import { readFile, rename } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { Pool } from 'undici';
import type { FullSandboxOptions } from '../../src/sandbox/fullSandbox.js';
import { sendCallbacks, trickyCallback } from '../../src/sandbox/callbacks.js';
import { bizppurio } from '../../src/vendors/bizppurio.js';
import { waitFor } from '../../src/os/childProcess.js';
import { startSwitchablePath, startThrottlingFront } from './support/faultyPath.js';
import {
  ackRecords,
  deliveredIds,
  metricValue,
  parityIds,
  queueCounts,
  shipSandbox as startShipSandbox,
  startShipProcess as startShip,
  shipFaultLifecycle,
} from './support/shipFaultSandbox.js';

const cleanups = shipFaultLifecycle();

const window = 32;
const shipSandbox = (options: FullSandboxOptions = {}) => startShipSandbox(cleanups, window, options);
const startShipProcess = (config: string, parityLogGlob: string) => startShip(cleanups, config, parityLogGlob);

/** POSTs each body on keepalive connections, counting the ones a reload's closed connection failed instead of stopping. */
async function sendThroughReloads(url: string, list: string[], connections: number): Promise<{ answered: number; failed: number }> {
  const target = new URL(url);
  const pool = new Pool(target.origin, { connections });
  let next = 0;
  let answered = 0;
  let failed = 0;
  try {
    await Promise.all(
      Array.from({ length: connections }, async () => {
        while (next < list.length) {
          const body = list[next++]!;
          try {
            const res = await pool.request({ method: 'POST', path: target.pathname, headers: { 'content-type': 'application/json' }, body });
            await res.body.dump();
            if (res.statusCode === 200) answered++;
            else failed++;
          } catch {
            failed++;
          }
        }
      }),
    );
  } finally {
    await pool.close();
  }
  return { answered, failed };
}

const bodies = (from: number, n: number) => Array.from({ length: n }, (_, i) => trickyCallback(bizppurio, from + i));

describe('mirror ship under faults', () => {
  it('the gateway down, then back: every callback logged meanwhile arrives; duplicates bounded by the window', async () => {
    const { s, config, ackPath } = await shipSandbox();
    const path = await startSwitchablePath(s.gatewayPort);
    cleanups.push(path.close);
    const cfg = await config(path.port);
    await path.down();
    const ship = startShipProcess(cfg, `${s.stack.parityLogPath}*`);
    const sent = await sendCallbacks(s.stack.callbackUrl, bodies(0, 150), { connections: 4 });
    expect(sent.every((r) => r.status === 200), 'the origin answers while the gateway is down').toBe(true);
    await waitFor(async () => (await metricValue(cfg, /mirror_ship_retries_total\{cause="connect-refused"\}/).catch(() => 0)) >= 6, {
      timeoutMs: 30_000,
      what: 'the shipper retrying against the refused gateway',
    });
    expect((await ackRecords(ackPath)).length, 'nothing is final while the gateway is down').toBe(0);
    // While it is refused, one callback probes and the others wait without attempting
    // (src/ship/sendWindow.ts): the retries are the probe's, not one per callback in flight.
    expect(await metricValue(cfg, /mirror_ship_send_limit/)).toBe(1);
    const attempted = (await metricValue(cfg, /mirror_ship_attempts_total/)) - (await metricValue(cfg, /mirror_ship_retries_total\{cause="connect-refused"\}/));
    expect(attempted, 'callbacks that made a first attempt: at most the window').toBeLessThanOrEqual(window);
    const retriesBefore = await metricValue(cfg, /mirror_ship_retries_total\{cause="connect-refused"\}/);
    await waitFor(async () => (await metricValue(cfg, /mirror_ship_retries_total\{cause="connect-refused"\}/)) >= retriesBefore + 2, { timeoutMs: 10_000, what: 'two more probes' });
    expect(await metricValue(cfg, /mirror_ship_attempts_total/), 'every attempt since is a probe: attempts grow with retries only').toBe(attempted + (await metricValue(cfg, /mirror_ship_retries_total\{cause="connect-refused"\}/)));
    await path.up();
    await waitFor(async () => (await deliveredIds(ackPath)).size >= 150, { timeoutMs: 60_000, what: '150 delivered' });
    const summary = await ship.stop();
    expect(summary).toMatchObject({ delivered: 150, gaveUp: 0 });
    const ids = await parityIds(s);
    const counts = await queueCounts(s, 150);
    expect(ids.filter((id) => !counts.has(id)), 'missing from SQS').toEqual([]);
    const duplicates = [...counts.values()].reduce((a, c) => a + c - 1, 0);
    expect(duplicates).toBeLessThanOrEqual(window);
  });

  it('log rotation (rename, then nginx reopens) while shipping: nothing read twice or skipped', async () => {
    const { s, config, ackPath } = await shipSandbox();
    const cfg = await config(s.gatewayPort);
    const ship = startShipProcess(cfg, `${s.stack.parityLogPath}*`);
    const files = [s.stack.parityLogPath];
    let sentTotal = 0;
    for (let round = 1; round <= 3; round++) {
      const batch = bodies(round * 1000, 80);
      const sending = sendCallbacks(s.stack.callbackUrl, batch, { connections: 4 });
      // Rotate mid-batch: rename, then USR1 makes nginx reopen its logs.
      await waitFor(async () => (await deliveredIds(ackPath)).size >= sentTotal + 20, { timeoutMs: 30_000, what: 'shipping under way' });
      const rotated = `${s.stack.parityLogPath}.${round}`;
      await rename(s.stack.parityLogPath, rotated);
      files.push(rotated);
      process.kill(s.stack.nginx.pid, 'SIGUSR1');
      expect((await sending).every((r) => r.status === 200)).toBe(true);
      sentTotal += batch.length;
    }
    await waitFor(async () => (await deliveredIds(ackPath)).size >= sentTotal, { timeoutMs: 60_000, what: `${sentTotal} delivered across rotations` });
    await ship.stop();
    const existing = [];
    for (const f of files) if (await readFile(f).then(() => true, () => false)) existing.push(f);
    const ids = await parityIds(s, existing);
    expect(ids).toHaveLength(sentTotal);
    const counts = await queueCounts(s, sentTotal);
    expect(ids.filter((id) => !counts.has(id)), 'skipped').toEqual([]);
    expect([...counts.entries()].filter(([, c]) => c > 1), 'read twice').toEqual([]);
    expect(counts.size).toBe(sentTotal);
  });

  it('nginx reloaded five times under load: every callback nginx logged is in SQS', async () => {
    const { s, config, ackPath } = await shipSandbox();
    const cfg = await config(s.gatewayPort);
    const ship = startShipProcess(cfg, `${s.stack.parityLogPath}*`);
    const sending = sendThroughReloads(s.stack.callbackUrl, bodies(0, 500), 4);
    for (let r = 0; r < 5; r++) {
      await waitFor(async () => (await readFile(s.stack.parityLogPath, 'utf8')).split('\n').length > (r + 1) * 80, { timeoutMs: 30_000, what: 'traffic flowing' });
      await s.stack.nginx.reload();
    }
    const { answered } = await sending;
    const ids = await parityIds(s);
    // A vendor connection a reload closes can fail a callback; nginx never logged those, and the vendor retries them.
    expect(ids.length).toBe(answered);
    expect(answered).toBeGreaterThan(450);
    await waitFor(async () => (await deliveredIds(ackPath)).size >= ids.length, { timeoutMs: 60_000, what: 'every logged callback delivered' });
    await ship.stop();
    const counts = await queueCounts(s, ids.length);
    expect(ids.filter((id) => !counts.has(id)), 'logged but not in SQS').toEqual([]);
  });

  it('a 429 storm and 5xx bursts: retried within the budget, given up past it, and the metrics say so', async () => {
    // SQS fails the first two sends of every 10th callback: the stand-in answers 5xx.
    const failures = new Map<string, number>();
    const { s, config, ackPath } = await shipSandbox({
      failSend: ({ body }) => {
        const n = Number(/"REFKEY":\s*"order-(\d+)/.exec(body)?.[1]);
        if (n % 10 !== 0) return false;
        const seen = failures.get(body) ?? 0;
        failures.set(body, seen + 1);
        return seen < 2;
      },
    });
    const front = await startThrottlingFront({
      cert: s.stack.ca.cert, key: s.stack.ca.key, ca: s.stack.ca.caPem, servername: s.stack.gateway.host, upstreamPort: s.gatewayPort, throttleEach: 3,
    });
    cleanups.push(front.close);

    // Budget 2 retries: three 429s exhaust it; each callback is recorded as given up.
    const tight = await config(front.port, { retries: 2 });
    const first = startShipProcess(tight, `${s.stack.parityLogPath}*`);
    await sendCallbacks(s.stack.callbackUrl, bodies(1, 9), { connections: 2 });
    await waitFor(async () => (await ackRecords(ackPath)).length >= 9, { timeoutMs: 30_000, what: '9 final answers' });
    expect(await metricValue(tight, /mirror_ship_failed_total\{cause="http-429"\}/)).toBe(9);
    expect(await metricValue(tight, /mirror_ship_retries_total\{cause="http-429"\}/)).toBe(18);
    await first.stop();
    const gaveUp = await ackRecords(ackPath);
    expect(gaveUp.every((a) => a.outcome === 'gave-up' && a.status === 429 && a.error_type === 'TooManyRequestsException' && a.attempts === 3 && a.cause === 'http-429')).toBe(true);

    // Budget 6: every callback gets through three 429s (and two 5xx for every 10th).
    const roomy = await config(front.port, { retries: 6 });
    const second = startShipProcess(roomy, `${s.stack.parityLogPath}*`);
    const storm = bodies(100, 100);
    await sendCallbacks(s.stack.callbackUrl, storm, { connections: 4 });
    await waitFor(async () => (await deliveredIds(ackPath)).size >= storm.length, { timeoutMs: 60_000, what: 'the storm delivered' });
    expect(await metricValue(roomy, /mirror_ship_retries_total\{cause="http-429"\}/)).toBe(storm.length * 3);
    expect(await metricValue(roomy, /mirror_ship_retries_total\{cause="http-5xx"\}/)).toBe(10 * 2);
    expect(await metricValue(roomy, /mirror_ship_sent_total\{outcome="delivered"\}/)).toBe(storm.length);
    await second.stop();
    const delivered = (await ackRecords(ackPath)).filter((a) => a.outcome === 'delivered');
    expect(delivered).toHaveLength(storm.length);
    expect(delivered.every((a) => a.attempts <= 7)).toBe(true);
    const counts = await queueCounts(s, storm.length);
    expect(counts.size).toBe(storm.length);
  });
});
