/**
 * Issue 2's end-to-end proof, through real processes only: the real nginx running
 * the rendered shadow config, an origin, dnsmasq resolving the execute-api host to
 * 127.0.0.1, and an HTTPS target whose certificate the test CA signed.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { startShadowStack, type ShadowStack } from '../../src/sandbox/shadowStack.js';
import { sendCallbacks, trickyCallback } from '../../src/sandbox/callbacks.js';
import { bizppurio } from '../../src/vendors/bizppurio.js';
import { runNginxTest } from '../../src/nginx/nginxTest.js';
import { findNginx } from '../../src/nginx/nginxBinary.js';
import { runLint } from '../../src/commands/lint.js';
import { waitFor } from '../../src/os/childProcess.js';
import type { CallbackRecord } from '../../src/verify/engine/records.js';

let stacks: ShadowStack[] = [];
afterEach(async () => {
  for (const stack of stacks) await stack.stop();
  stacks = [];
});

async function stack(options: Parameters<typeof startShadowStack>[0]): Promise<ShadowStack> {
  const started = await startShadowStack(options);
  stacks.push(started);
  return started;
}

async function parityRecords(s: ShadowStack): Promise<CallbackRecord[]> {
  const lines = await s.readParityLog();
  for (const line of lines) expect(line, 'every parity log line parses').toMatchObject({ ok: true });
  return lines.flatMap((l) => (l.ok ? [l.record] : []));
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(',') : value;
}

describe('shadow phase through real nginx', () => {
  it('mirrors 240 awkward callbacks byte for byte, on the right path, Host, SNI and request id', async () => {
    // Server-level proxy_set_header lines, as real servers have, must not leak into the mirror.
    const s = await stack({ serverLevelHeaders: true });
    const bodies = Array.from({ length: 240 }, (_, i) => trickyCallback(bizppurio, i));
    expect(new Set(bodies).size).toBe(bodies.length);
    const sent = await sendCallbacks(s.callbackUrl, bodies, { connections: 4 });
    expect(sent.map((r) => r.status)).toEqual(bodies.map(() => 200));
    expect(sent.every((r) => r.responseBody === '{"code":"0000"}')).toBe(true);
    await s.waitForParityLines(bodies.length);
    await s.target!.waitForCount(bodies.length);

    // The origin got each body byte for byte.
    const originBodies = s.origin.requests.map((r) => r.body);
    expect(originBodies).toHaveLength(bodies.length);
    expect(new Set(originBodies.map((b) => b.toString('base64')))).toEqual(new Set(bodies.map((b) => Buffer.from(b).toString('base64'))));

    // Every parity log line parses, carries the sent body, and was mirrored.
    const records = await parityRecords(s);
    expect(records).toHaveLength(bodies.length);
    expect(new Set(records.map((r) => r.body))).toEqual(new Set(bodies));
    expect(records.every((r) => r.sentToGateway && r.status === 200 && r.upstreamStatus === '200' && r.phase === 'shadow')).toBe(true);
    const byRequestId = new Map(records.map((r) => [r.requestId, r]));
    expect(byRequestId.size).toBe(bodies.length);

    // The target got each body byte for byte, joined on the request-id header.
    expect(s.gateway).toEqual({ host: 'a1b2c3d4e5.execute-api.ap-northeast-2.amazonaws.com', path: '/dev/kakao-at-result' });
    const seenIds = new Set<string>();
    for (const got of s.target!.requests) {
      const requestId = header(got.headers['x-mirror-request-id']);
      expect(requestId).toMatch(/^[0-9a-f]{32}$/);
      const record = byRequestId.get(requestId!);
      expect(record, `request id ${requestId} is in the parity log`).toBeDefined();
      expect(got.body.equals(Buffer.from(record!.body!))).toBe(true);
      expect(got.method).toBe('POST');
      expect(got.url).toBe('/dev/kakao-at-result');
      expect(got.headers.host).toBe(s.gateway.host);
      expect(got.servername).toBe(s.gateway.host);
      expect(got.headers['content-type']).toBe('application/json');
      expect(got.headers['content-length']).toBe(String(got.body.length));
      expect(got.headers['x-forwarded-for'], 'server-level headers do not leak into the mirror').toBeUndefined();
      seenIds.add(requestId!);
    }
    expect(seenIds.size).toBe(bodies.length);

    // The query string is kept on the mirrored copy.
    const [withQuery] = await sendCallbacks(`${s.callbackUrl}?retry=1&sig=a%2Bb`, [trickyCallback(bizppurio, 9999)]);
    expect(withQuery!.status).toBe(200);
    await s.target!.waitForCount(bodies.length + 1);
    expect(s.target!.requests.at(-1)!.url).toBe('/dev/kakao-at-result?retry=1&sig=a%2Bb');

    // The mirror location cannot be reached from outside.
    const outside = await request(new URL('/_mirror/bizppurio', s.callbackUrl), { method: 'POST', body: '{}' });
    await outside.body.text();
    expect(outside.statusCode).toBe(404);
    expect(s.target!.count()).toBe(bodies.length + 1);
  });

  it('reproduces the seed: no resolver passes nginx -t, fails the lint, and logs "no resolver defined" while the origin answers 200', async () => {
    const s = await stack({ resolver: 'none' });
    expect(s.rendered.files.some((f) => /^\s*resolver\s/m.test(f.contents))).toBe(false);
    const nginxTest = await runNginxTest(await findNginx(), s.harness);
    expect(nginxTest.ok).toBe(true);
    const lint = await runLint({ files: [s.harness.confPath], format: 'json' });
    expect(lint.exitCode).toBe(1);
    expect(lint.report.findings.map((f) => f.ruleId)).toContain('proxy-pass-variable-without-resolver');

    const sent = await sendCallbacks(s.callbackUrl, [0, 1, 2].map((i) => trickyCallback(bizppurio, i)), { connections: 1 });
    expect(sent.map((r) => r.status)).toEqual([200, 200, 200]);
    await waitFor(async () => (await s.nginx.errorLog()).includes('no resolver defined to resolve a1b2c3d4e5.execute-api.ap-northeast-2.amazonaws.com'), {
      timeoutMs: 15_000,
      what: 'the error line "no resolver defined to resolve"',
    });
    expect(s.origin.count()).toBe(3);
    expect(s.target!.count()).toBe(0);
  });

  it('reproduces the seed: a resolver that never answers logs "could not be resolved (110: Operation timed out)" while the origin answers 200', async () => {
    const s = await stack({ resolver: 'silent', resolverTimeout: '1s' });
    const sent = await sendCallbacks(s.callbackUrl, [trickyCallback(bizppurio, 1), trickyCallback(bizppurio, 2)], { connections: 2 });
    expect(sent.map((r) => r.status)).toEqual([200, 200]);
    await waitFor(async () => (await s.nginx.errorLog()).includes('could not be resolved (110: Operation timed out)'), {
      timeoutMs: 20_000,
      what: 'the error line "could not be resolved (110: Operation timed out)"',
    });
    expect(s.origin.count()).toBe(2);
    expect(s.target!.count()).toBe(0);
  });

  it.each([
    { sample: 0, count: 100 },
    { sample: 100, count: 100 },
    { sample: 50, count: 1000 },
  ])('sample $sample mirrors exactly the callbacks the parity log marks as sent ($count callbacks)', async ({ sample, count }) => {
    const s = await stack({ sample });
    const bodies = Array.from({ length: count }, (_, i) => trickyCallback(bizppurio, i));
    const sent = await sendCallbacks(s.callbackUrl, bodies, { connections: 4 });
    expect(sent.every((r) => r.status === 200)).toBe(true);
    await s.waitForParityLines(count);
    const records = await parityRecords(s);
    const marked = new Set(records.filter((r) => r.sentToGateway).map((r) => r.requestId));
    // The parity log is written when the main request ends, after its mirror subrequest.
    await s.target!.waitForCount(marked.size);
    const received = new Set(s.target!.requests.map((r) => header(r.headers['x-mirror-request-id'])));
    expect(received).toEqual(marked);
    expect(s.origin.count()).toBe(count);
    if (sample === 0) expect(marked.size).toBe(0);
    if (sample === 100) expect(marked.size).toBe(count);
    // Binomial(1000, 0.5): standard deviation 15.8, so ±80 is five of them.
    if (sample === 50) expect(Math.abs(marked.size - count / 2)).toBeLessThanOrEqual(80);
  });
});
