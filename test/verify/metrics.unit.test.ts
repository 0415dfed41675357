/** The parity metrics' own rules: counters follow the ledger, parity over a sliding window, fixed labels. */
import { describe, expect, it } from 'vitest';
import { ParityMetrics, receiveErrorKind, receiveErrorKinds } from '../../src/verify/sources/metrics.js';
import type { ParityCounts } from '../../src/verify/engine/parityLedger.js';

const zero: ParityCounts = {
  callbacks: 0, matched: 0, missing: 0, pending: 0, unexpected: 0, duplicates: 0, bodyMismatches: 0, bodyNotChecked: 0,
  nginxRejected: 0, notMirrored: 0, unjoinable: 0, probes: 0, outOfWindow: 0,
};

/** One sample's value from the text exposition. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1).replace(/^Nan$/, 'NaN'));
}

describe('ParityMetrics', () => {
  it('exports parity as NaN until something is judged, never a false 0', async () => {
    const m = new ParityMetrics({ now: 0 });
    expect(sample(await m.metrics(), 'mirror_parity_ratio')).toBeNaN();
    m.update({ ...zero, callbacks: 3, pending: 3 }, 3, 1_000);
    expect(sample(await m.metrics(), 'mirror_parity_ratio')).toBeNaN();
  });

  it('parity covers the sliding window only; counters follow the ledger and never go down', async () => {
    const m = new ParityMetrics({ windowMs: 60_000, now: 0 });
    // First minute: 9 of 10 arrive.
    m.update({ ...zero, callbacks: 10, matched: 9, missing: 1 }, 0, 30_000);
    expect(sample(await m.metrics(), 'mirror_parity_ratio')).toBeCloseTo(0.9);
    m.update({ ...zero, callbacks: 10, matched: 9, missing: 1 }, 0, 60_000);
    // Then 10 more, all arrive; the window (60 s) has moved past the miss.
    m.update({ ...zero, callbacks: 20, matched: 19, missing: 1 }, 0, 120_000);
    const text = await m.metrics();
    expect(sample(text, 'mirror_parity_ratio')).toBe(1);
    expect(sample(text, 'mirror_matched_total')).toBe(19);
    expect(sample(text, 'mirror_missing_total')).toBe(1);
    expect(sample(text, 'mirror_callbacks_total')).toBe(20);
    // Nothing judged in the last window: unknown, not 1 and not 0.
    m.update({ ...zero, callbacks: 20, matched: 19, missing: 1 }, 0, 500_000);
    expect(sample(await m.metrics(), 'mirror_parity_ratio')).toBeNaN();
  });

  it('exports every phase (1 for the configured one) and every receive-error kind from the start', async () => {
    const m = new ParityMetrics();
    m.setPhase('shadow-domain');
    m.receiveError('QueueDoesNotExist');
    m.receiveError('ThrottlingException');
    m.receiveError('Some.new"Error{with}labels');
    const text = await m.metrics();
    expect(sample(text, 'mirror_phase{phase="shadow-domain"}')).toBe(1);
    expect(sample(text, 'mirror_phase{phase="shadow"}')).toBe(0);
    for (const kind of receiveErrorKinds) expect(sample(text, `mirror_sqs_receive_errors_total{kind="${kind}"}`)).toBeDefined();
    expect(sample(text, 'mirror_sqs_receive_errors_total{kind="queue_missing"}')).toBe(1);
    expect(sample(text, 'mirror_sqs_receive_errors_total{kind="throttled"}')).toBe(1);
    expect(sample(text, 'mirror_sqs_receive_errors_total{kind="other"}')).toBe(1);
    expect(text).not.toMatch(/Some\.new/);
  });

  it('names receive errors by kind from the SDK error names', () => {
    expect(receiveErrorKind('AccessDenied')).toBe('auth');
    expect(receiveErrorKind('CredentialsProviderError')).toBe('auth');
    expect(receiveErrorKind('AWS.SimpleQueueService.NonExistentQueue')).toBe('queue_missing');
    expect(receiveErrorKind('TimeoutError')).toBe('timeout');
    expect(receiveErrorKind('ECONNRESET')).toBe('network');
    expect(receiveErrorKind('InternalError')).toBe('server');
    expect(receiveErrorKind('RequestThrottled')).toBe('throttled');
  });

  it('two instances do not share a registry (nothing global, nothing at import)', async () => {
    const a = new ParityMetrics();
    const b = new ParityMetrics();
    a.unparseableLine();
    expect(sample(await a.metrics(), 'mirror_unparseable_lines_total')).toBe(1);
    expect(sample(await b.metrics(), 'mirror_unparseable_lines_total')).toBe(0);
  });
});
