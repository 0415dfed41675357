/**
 * `verify --mode ack` from its inputs: nginx's upstream variables as measured
 * (nginx 1.22: an answer, a refused connection, a reset, a read timeout, a name that
 * did not resolve), mirror ship's ack records (read defensively, delivered over any
 * other outcome), and the gate that never lets an unknown count as delivered.
 */
import fc from 'fast-check';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { classifyUpstream, parseAnswerLine } from '../../src/verify/engine/gatewayAnswers.js';
import { AckLedger, applyAckGate } from '../../src/verify/engine/ackLedger.js';
import { runVerify } from '../../src/commands/verify.js';
import { exampleConfig, writeConfigFile } from '../support/config.js';
import { numberedRequestId, parityLine } from '../support/parityLog.js';
import type { CallbackRecord } from '../../src/verify/engine/records.js';

describe('classifyUpstream: the mirror subrequest as nginx logged it (measured, nginx 1.22)', () => {
  it.each([
    [{ status: 200, upstreamStatus: '200', connectTime: '0.000', headerTime: '0.012' }, { outcome: 'delivered', status: 200, cause: 'ok' }],
    [{ status: 415, upstreamStatus: '415', connectTime: '0.006', headerTime: '0.008' }, { outcome: 'failed', status: 415, cause: 'http-415' }],
    [{ status: 403, upstreamStatus: '403', connectTime: '0.006', headerTime: '0.008' }, { outcome: 'failed', status: 403, cause: 'http-403' }],
    [{ status: 500, upstreamStatus: '500', connectTime: '0.006', headerTime: '0.008' }, { outcome: 'failed', status: 500, cause: 'http-5xx' }],
    // Connected, request sent, then the connection reset: it may have landed.
    [{ status: 502, upstreamStatus: '502', connectTime: '0.003', headerTime: '-' }, { outcome: 'unknown', status: null, cause: 'reset' }],
    // Never connected: nothing was sent.
    [{ status: 502, upstreamStatus: '502', connectTime: '-', headerTime: '-' }, { outcome: 'failed', status: null, cause: 'connect-refused' }],
    [{ status: 504, upstreamStatus: '504', connectTime: '0.000', headerTime: '-' }, { outcome: 'unknown', status: null, cause: 'timeout' }],
    // The connect or TLS handshake ran out of proxy_connect_timeout: nothing was sent, so it is not in SQS.
    [{ status: 504, upstreamStatus: '504', connectTime: '-', headerTime: '-' }, { outcome: 'failed', status: null, cause: 'timeout' }],
    [{ status: 502, upstreamStatus: '', connectTime: '', headerTime: '' }, { outcome: 'failed', status: null, cause: 'dns' }],
    // The mirror location's early return when the callback is not sampled.
    [{ status: 204, upstreamStatus: '', connectTime: '', headerTime: '' }, { outcome: 'not-sent', status: null, cause: 'ok' }],
  ])('%j', (fields, expected) => {
    expect(classifyUpstream(fields)).toEqual(expected);
  });

  it('after nginx tried a second address, the last answer counts', () => {
    const line = JSON.stringify({ kind: 'mirror', msec: 1, request_id: 'a'.repeat(32), status: 200, upstream_status: '502, 200', upstream_connect_time: '-, 0.001', upstream_header_time: '-, 0.004', error_type: '' });
    expect(parseAnswerLine(line, 'answers')).toMatchObject({ ok: true, answer: { outcome: 'delivered', status: 200 } });
  });
});

const ship = (fields: Record<string, unknown>) =>
  JSON.stringify({ v: 1, kind: 'ship', time: '2026-11-30T03:20:00.123Z', request_id: 'b'.repeat(32), target: 'custom-domain', status: 200, error_type: '', outcome: 'delivered', cause: 'ok', uncertain: false, attempts: 1, latency_ms: 12.5, ...fields });

describe("mirror ship's ack records", () => {
  it('reads every outcome of the contract, and refuses what it does not know', () => {
    expect(parseAnswerLine(ship({}), 'answers')).toMatchObject({ ok: true, answer: { outcome: 'delivered', source: 'ship' } });
    expect(parseAnswerLine(ship({ outcome: 'rejected', status: 415, error_type: 'UnsupportedMediaTypeException', cause: 'http-4xx' }), 'answers')).toMatchObject({
      ok: true, answer: { outcome: 'failed', cause: 'http-415', errorType: 'UnsupportedMediaTypeException' },
    });
    expect(parseAnswerLine(ship({ outcome: 'gave-up', status: null, cause: 'connect-refused' }), 'answers')).toMatchObject({ ok: true, answer: { outcome: 'failed', cause: 'connect-refused' } });
    expect(parseAnswerLine(ship({ outcome: 'gave-up', status: null, cause: 'timeout', uncertain: true }), 'answers')).toMatchObject({ ok: true, answer: { outcome: 'unknown', cause: 'timeout' } });
    expect(parseAnswerLine(ship({ outcome: 'not-captured', status: null, cause: 'body-not-captured' }), 'answers')).toMatchObject({ ok: true, answer: { outcome: 'failed', cause: 'body-not-captured' } });
    expect(parseAnswerLine(ship({ outcome: 'gave-up', status: null, cause: 'cosmic-rays' }), 'answers')).toMatchObject({ ok: true, answer: { cause: 'other' } });
    expect(parseAnswerLine(ship({ outcome: 'lost' }), 'answers')).toMatchObject({ ok: false, reason: expect.stringContaining('outcome') });
    expect(parseAnswerLine(ship({ v: 2 }), 'answers')).toMatchObject({ ok: false, reason: expect.stringContaining('version') });
    expect(parseAnswerLine('{"v":1,"kind":"ship"', 'answers')).toEqual({ ok: false, reason: 'not JSON' });
  });
});

describe('AckLedger and its gate (property)', () => {
  const record = (i: number, timeMs: number): CallbackRecord => ({
    requestId: numberedRequestId(i), timeMs, method: 'POST', uri: '/cb', status: 200, upstreamStatus: '200', sentToGateway: true, phase: 'shadow', source: { file: 'p', line: i + 1 },
  });
  it('unknowns never count as delivered; the verdict is inconclusive exactly when they could change it', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom('delivered', 'failed', 'unknown', 'none', 'repeated'), { maxLength: 80 }),
        fc.constantFrom(0.5, 0.9, 0.99, 1),
        fc.integer({ min: 1, max: 40 }),
        (fates, threshold, minSample) => {
          const ledger = new AckLedger({ graceMs: 1000 });
          let delivered = 0, failed = 0, unknown = 0;
          fates.forEach((fate, i) => {
            ledger.addCallback(record(i, 0));
            const answer = (outcome: 'delivered' | 'failed' | 'unknown') => ({
              requestId: numberedRequestId(i), outcome, status: outcome === 'delivered' ? 200 : outcome === 'failed' ? 503 : null, errorType: '',
              cause: outcome === 'delivered' ? ('ok' as const) : outcome === 'failed' ? ('http-5xx' as const) : ('timeout' as const), source: 'ship' as const,
            });
            if (fate === 'delivered') { ledger.addAnswer(answer('delivered')); delivered++; }
            if (fate === 'failed' || fate === 'none') { if (fate === 'failed') ledger.addAnswer(answer('failed')); failed++; }
            if (fate === 'unknown') { ledger.addAnswer(answer('unknown')); unknown++; }
            // A shipper restarted: an uncertain attempt, then the delivered one, in either order.
            if (fate === 'repeated') { ledger.addAnswer(answer(i % 2 ? 'unknown' : 'delivered')); ledger.addAnswer(answer(i % 2 ? 'delivered' : 'unknown')); delivered++; }
          });
          const j = ledger.judge(10_000);
          expect(j.counts).toMatchObject({ matched: delivered, missing: failed, callbacks: fates.length });
          expect(j.unknownCount).toBe(unknown);
          const gate = applyAckGate(j, { threshold, minSample });
          const verdictFor = (m: number, x: number) => (m + x > 0 && m / (m + x) < threshold ? 'fail' : m + x < minSample ? 'inconclusive' : 'pass');
          const worst = verdictFor(delivered, failed + unknown);
          const best = verdictFor(delivered + unknown, failed);
          expect(gate.verdict).toBe(worst === best ? worst : 'inconclusive');
        },
      ),
      { numRuns: 400 },
    );
  });
});

describe('verify --mode ack --ack-log', () => {
  const dirs: string[] = [];
  afterEach(async () => {
    for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
  });

  it("judges from mirror ship's ack log: causes grouped, a repeated line counted once, a bad line counted", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mirror-ack-'));
    dirs.push(dir);
    const parity = join(dir, 'parity.log');
    const acks = join(dir, 'ship-acks.log');
    const t = Date.now() - 60_000;
    await writeFile(parity, `${Array.from({ length: 12 }, (_, i) => parityLine(numberedRequestId(i), '{}', { msec: t + i })).join('\n')}\n`);
    const lines = [
      ...Array.from({ length: 9 }, (_, i) => ship({ request_id: numberedRequestId(i) })),
      ship({ request_id: numberedRequestId(0), outcome: 'gave-up', status: null, cause: 'timeout', uncertain: true }),
      ship({ request_id: numberedRequestId(9), outcome: 'rejected', status: 403, error_type: 'MissingAuthenticationTokenException', cause: 'http-4xx' }),
      ship({ request_id: numberedRequestId(10), outcome: 'gave-up', status: null, cause: 'dns' }),
      '{"v":1,"kind":"ship","request_id":',
    ];
    await writeFile(acks, `${lines.join('\n')}\n`, { mode: 0o600 });
    const config = await writeConfigFile({ ...exampleConfig(), parityLog: { path: parity, body: true }, verify: { grace: '10s', gate: 0.5, minSample: 5 } }, dir);
    const r = await runVerify({ config, mode: 'ack', ackLog: [acks], parityLog: [parity] });
    expect(r.counts).toMatchObject({ callbacks: 12, matched: 9, missing: 3 });
    expect(r.ack!.byCauseLabel).toEqual({ 'http-403': 1, dns: 1, 'no-answer': 1 });
    expect(r.ack!.byCause).toMatchObject({ 'http-403 (403 MissingAuthenticationTokenException)': 1 });
    expect(r.missing.find((m) => m.requestId === numberedRequestId(11))).toMatchObject({ cause: 'no-answer' });
    expect('answers' in r.sqs && r.sqs.answers.unreadable).toBe(1);
    expect(r.verdict).toBe('pass');
    await expect(runVerify({ config, mode: 'ack', ackLog: [join(dir, 'nope.log')], parityLog: [parity] })).rejects.toMatchObject({ exitCode: 2 });
  });
});
