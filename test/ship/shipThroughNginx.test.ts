/**
 * `mirror ship` against real nginx writing the parity log (transport ship: no
 * mirror) and a TLS target whose certificate the test CA signed, reached by name
 * through dnsmasq: what arrives, what the ack log and the checkpoint say, and a
 * restart that resumes where it stopped.
 */
import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { startShadowStack, type ShadowStack } from '../../src/sandbox/shadowStack.js';
import { sendCallbacks, trickyCallback } from '../../src/sandbox/callbacks.js';
import { bizppurio } from '../../src/vendors/bizppurio.js';
import { waitFor } from '../../src/os/childProcess.js';
import { runShip, type ShipResult } from '../../src/commands/ship.js';
import type { AckRecord } from '../../src/ship/ackRecord.js';
import { writeConfigFile } from '../support/config.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

async function shipStack(): Promise<{ s: ShadowStack; config: string; dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'mirror-ship-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const s = await startShadowStack({
    editConfig: (raw) => {
      raw.mirror.transport = 'ship';
      raw.ship = { checkpoint: join(dir, 'state/checkpoint.json'), ackLog: join(dir, 'state/ack.log'), listen: '127.0.0.1:0', minBackoff: '20ms', maxBackoff: '200ms' };
    },
  });
  cleanups.push(s.stop);
  return { s, config: await writeConfigFile(s.rawConfig, dir), dir };
}

/** Runs the shipper in this process until `stop` is called. */
function startShipper(config: string) {
  const controller = new AbortController();
  let metricsUrl = '';
  const lines: string[] = [];
  const done: Promise<ShipResult> = runShip({
    config,
    signal: controller.signal,
    terminal: false,
    print: (text) => void lines.push(text),
    onListening: ({ host, port }) => (metricsUrl = `http://${host}:${port}/metrics`),
  });
  const stop = async () => {
    controller.abort();
    return done;
  };
  cleanups.push(async () => void (await stop()));
  return { stop, metricsUrl: () => metricsUrl, lines };
}

async function ackRecords(path: string): Promise<AckRecord[]> {
  const text = await readFile(path, 'utf8').catch(() => '');
  return text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as AckRecord);
}

describe('mirror ship through real nginx', () => {
  it('sends every logged callback byte for byte with the request id, Host and SNI; acks each; resumes from its checkpoint', async () => {
    const { s, config, dir } = await shipStack();
    expect(s.rendered.files.some((f) => /^\s*mirror /m.test(f.contents)), 'transport ship renders no mirror').toBe(false);
    const bodies = Array.from({ length: 120 }, (_, i) => trickyCallback(bizppurio, i));
    const sent = await sendCallbacks(s.callbackUrl, bodies, { connections: 4 });
    expect(sent.every((r) => r.status === 200)).toBe(true);
    // A body that is not UTF-8 at all: nginx logs its bytes raw; the shipper must send them unchanged.
    const rawBody = Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0xc3, 0x28, 0x0a, 0x22, 0x7d]);
    const raw = await request(s.callbackUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: rawBody });
    await raw.body.dump();
    // Larger than callback.bodyBufferSize (64k): nginx logs no body, so nothing may be sent.
    const big = await request(s.callbackUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: `{"PAD":"${'x'.repeat(100_000)}"}` });
    await big.body.dump();
    await s.waitForParityLines(bodies.length + 2);
    expect(s.target!.count(), 'nginx itself sends nothing to the gateway').toBe(0);

    const ship = startShipper(config);
    await s.target!.waitForCount(bodies.length + 1, 30_000);
    const records = (await s.readParityLog()).flatMap((l) => (l.ok ? [l.record] : []));
    const byId = new Map(records.map((r) => [r.requestId, r]));
    for (const got of s.target!.requests) {
      const id = got.headers['x-mirror-request-id'] as string;
      expect(byId.has(id)).toBe(true);
      expect(got.url).toBe('/dev/kakao-at-result');
      // A port other than 443 goes in Host, as HTTP says; API Gateway itself listens on 443.
      expect(got.headers.host).toBe(`${s.gateway.host}:${s.gatewayPort}`);
      expect(got.servername).toBe(s.gateway.host);
      expect(got.headers['content-type']).toBe('application/json');
    }
    const received = new Set(s.target!.requests.map((r) => r.body.toString('base64')));
    for (const body of bodies) expect(received.has(Buffer.from(body).toString('base64'))).toBe(true);
    expect(received.has(rawBody.toString('base64')), 'the non-UTF-8 body arrives byte for byte').toBe(true);

    const ackPath = join(dir, 'state/ack.log');
    await waitFor(async () => (await ackRecords(ackPath)).length >= bodies.length + 2, { timeoutMs: 15_000, what: 'an ack line per callback' });
    const metrics = await (await request(ship.metricsUrl())).body.text();
    expect(metrics).toMatch(/^mirror_ship_sent_total\{outcome="delivered"\} 121$/m);
    expect(metrics).toMatch(/^mirror_ship_sent_total\{outcome="not-captured"\} 1$/m);
    expect(metrics).toMatch(/^mirror_ship_failed_total\{cause="body-not-captured"\} 1$/m);
    const first = await ship.stop();
    expect(first).toMatchObject({ delivered: 121, notCaptured: 1, rejected: 0, gaveUp: 0, unfinishedAtStop: 0 });
    // The one callback the target never got (the raw body is also not a captured UTF-8 body to verify, but it was sent).
    const sentIds = new Set(s.target!.requests.map((r) => r.headers['x-mirror-request-id'] as string));
    const bigId = records.find((r) => r.bodyCaptured === false && !sentIds.has(r.requestId))!.requestId;
    expect(first.notCapturedIds).toEqual([bigId]);

    const acks = await ackRecords(ackPath);
    expect(acks).toHaveLength(122);
    expect(acks.find((a) => a.request_id === bigId)).toMatchObject({ outcome: 'not-captured', cause: 'body-not-captured', attempts: 0, status: null });
    expect(acks.filter((a) => a.outcome === 'delivered').every((a) => a.status === 200 && a.cause === 'ok' && a.target === 'execute-api' && a.attempts === 1)).toBe(true);
    const ackText = await readFile(ackPath, 'utf8');
    expect(ackText).not.toContain('PHONE');
    expect((await stat(ackPath)).mode & 0o777).toBe(0o600);
    const checkpoint = JSON.parse(await readFile(join(dir, 'state/checkpoint.json'), 'utf8'));
    const logInfo = await stat(s.parityLogPath);
    expect(checkpoint.files).toEqual([{ id: `${logInfo.dev}:${logInfo.ino}`, path: s.parityLogPath, offset: logInfo.size }]);

    // Restarted: it resumes at the checkpoint, sends only what came since.
    const more = Array.from({ length: 30 }, (_, i) => trickyCallback(bizppurio, 1000 + i));
    await sendCallbacks(s.callbackUrl, more, { connections: 2 });
    await s.waitForParityLines(bodies.length + 2 + more.length);
    const again = startShipper(config);
    await s.target!.waitForCount(bodies.length + 1 + more.length, 30_000);
    await waitFor(async () => (await ackRecords(ackPath)).length >= 122 + more.length, { timeoutMs: 15_000, what: 'ack lines for the new callbacks' });
    const second = await again.stop();
    expect(second).toMatchObject({ delivered: more.length, notCaptured: 0 });
    expect(s.target!.count(), 'nothing sent twice').toBe(bodies.length + 1 + more.length);
  });

  it('refuses to run when the config says transport nginx: exit 2 naming the key', async () => {
    const { s, dir } = await shipStack();
    const tree = structuredClone(s.rawConfig);
    tree.mirror.transport = 'nginx';
    const config = await writeConfigFile(tree, dir);
    await expect(runShip({ config, signal: new AbortController().signal })).rejects.toMatchObject({ exitCode: 2, message: expect.stringMatching(/mirror\.transport is nginx/) });
  });

  it('one shipper per checkpoint: a second is refused (exit 1, naming the lock and the holder); the first cleans what a killed checkpoint write left', async () => {
    const { config, dir } = await shipStack();
    await mkdir(join(dir, 'state'), { recursive: true });
    const leftover = join(dir, 'state/.checkpoint.json.0123456789ab.tmp');
    await writeFile(leftover, '{"v":1,"fil');
    const first = startShipper(config);
    await waitFor(async () => first.metricsUrl() !== '', { timeoutMs: 10_000, what: 'the first shipper listening' });
    expect(await readdir(join(dir, 'state')), 'the half-written temp file removed').not.toContain('.checkpoint.json.0123456789ab.tmp');
    await expect(runShip({ config, signal: new AbortController().signal })).rejects.toMatchObject({
      exitCode: 1,
      message: expect.stringMatching(new RegExp(`another mirror ship holds the lock ${join(dir, 'state/checkpoint.json.lock')} \\(pid ${process.pid} `)),
    });
    await first.stop();
    // Released when start-up fails too: a corrupt checkpoint is refused (exit 2), and once it is gone the next run starts.
    await writeFile(join(dir, 'state/checkpoint.json'), '{"v":1,"fil');
    await expect(runShip({ config, signal: new AbortController().signal })).rejects.toMatchObject({ exitCode: 2 });
    await rm(join(dir, 'state/checkpoint.json'));
    // Released at stop: the next shipper starts.
    const next = startShipper(config);
    await waitFor(async () => next.metricsUrl() !== '', { timeoutMs: 10_000, what: 'the next shipper listening' });
    await next.stop();
  });
});
