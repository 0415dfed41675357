/**
 * `mirror probe` against the full sandbox: marked callbacks straight to the
 * gateway stand-in and through nginx, seen in SQS by their attribute; exit 1 when
 * API Gateway is gone.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startFullSandbox, type FullSandbox } from '../../src/sandbox/fullSandbox.js';
import { runProbe, formatProbeText, type ProbeOptions } from '../../src/commands/probe.js';

let sandboxes: FullSandbox[] = [];
afterEach(async () => {
  for (const s of sandboxes) await s.stop();
  sandboxes = [];
});

async function sandbox(): Promise<FullSandbox> {
  const s = await startFullSandbox();
  sandboxes.push(s);
  return s;
}

function probeOptions(s: FullSandbox, extra: Partial<ProbeOptions> = {}): ProbeOptions {
  const config = s.stack.config;
  return {
    loaded: { ...config, sqs: { ...config.sqs, queueUrl: s.queueUrl, endpoint: s.fauxqs.endpoint } },
    ca: s.stack.ca.caPath,
    connectTo: `127.0.0.1:${s.gatewayPort}`,
    sqsClient: s.fauxqs.client(),
    ...extra,
  };
}

describe('mirror probe', () => {
  it('reports arrival of every probe sent straight to the gateway, with its latency', async () => {
    const s = await sandbox();
    const result = await runProbe(probeOptions(s, { count: 4, timeout: '20s', visibilitySeconds: 1 }));
    expect(result.exitCode).toBe(0);
    expect(result.verdict).toBe('arrived');
    expect(result.arrived).toBe(4);
    for (const p of result.probes) {
      expect(p.status).toBe(200);
      expect(p.roundTripMs).toBeGreaterThanOrEqual(0);
      expect(p.refKey).toBe(`mirror-probe-${result.run}-${p.seq}`);
    }
    expect(formatProbeText(result)).toMatch(/^PASS: 4 of 4 probes arrived/);
    // The probes stay in the queue for the consumers, marked, with the recognisable REFKEY.
    const left = await s.drain(4, 20_000);
    expect(left).toHaveLength(4);
    for (const m of left) {
      expect(m.attributes['mirror-probe']).toMatch(new RegExp(`^${result.run}-\\d$`));
      expect(JSON.parse(m.body).REFKEY).toMatch(/^mirror-probe-/);
      expect(JSON.parse(m.body).PHONE).toBe('00000000000');
    }
  }, 90_000);

  it('through nginx: the origin gets the probes too, and SQS gets them marked', async () => {
    const s = await sandbox();
    const result = await runProbe(probeOptions(s, { count: 2, throughNginx: true, nginxUrl: s.stack.callbackUrl, timeout: '20s' }));
    expect(result.exitCode).toBe(0);
    expect(result.arrived).toBe(2);
    const atOrigin = s.stack.origin.requests.map((r) => JSON.parse(r.body.toString('utf8')).REFKEY);
    expect(atOrigin.sort()).toEqual([`mirror-probe-${result.run}-0`, `mirror-probe-${result.run}-1`]);
    expect(s.stack.origin.requests.every((r) => r.headers['x-mirror-probe'] !== undefined)).toBe(true);
  }, 90_000);

  it('exit 1 when the gateway is down: nothing arrives and each probe says why', async () => {
    const s = await sandbox();
    await s.stopGateway();
    const result = await runProbe(probeOptions(s, { count: 2, timeout: '2s' }));
    expect(result.exitCode).toBe(1);
    expect(result.verdict).toBe('missing');
    expect(result.arrived).toBe(0);
    expect(result.probes.every((p) => p.status === null && p.error)).toBe(true);
    expect(formatProbeText(result)).toMatch(/^FAIL: 0 of 2/);
  }, 60_000);

  it('refuses a bad count or timeout with exit 2', async () => {
    await expect(runProbe({ loaded: undefined as never, count: 0 })).rejects.toMatchObject({ exitCode: 2 });
    await expect(runProbe({ loaded: undefined as never, timeout: 'soon' })).rejects.toMatchObject({ exitCode: 2, message: expect.stringMatching(/--timeout soon/) });
  });
});
