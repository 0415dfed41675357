/**
 * Property tests of the pure comparator: generated streams of callbacks with
 * drops, duplicates, reordering, delays around the grace edge, body corruption
 * and unexpected messages. The report's counts equal the ground truth the
 * generator knows, for every generated case.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ParityLedger } from '../../src/verify/engine/parityLedger.js';
import { applyGate } from '../../src/verify/engine/gate.js';
import type { CallbackRecord, QueueMessage } from '../../src/verify/engine/records.js';
import { requestIdAttribute } from '../../src/wire/contract.js';

type Fate =
  | { kind: 'delivered'; lagMs: number; copies: number; corrupt: boolean }
  | { kind: 'dropped' }
  | { kind: 'rejected' }
  | { kind: 'not-mirrored' };

const graceMs = 30_000;
const tricky = fc.constantFrom('한글', '😀', '&', '=', '+', '%', '"', '\\', '\n', 'a', ' ');

const fateArb: fc.Arbitrary<Fate> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('delivered' as const), lagMs: fc.integer({ min: 0, max: 3 * graceMs }), copies: fc.integer({ min: 1, max: 3 }), corrupt: fc.boolean() }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'dropped' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'rejected' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'not-mirrored' as const }) },
);

const caseArb = fc.record({
  callbacks: fc.array(
    fc.record({ offsetMs: fc.integer({ min: 0, max: 120_000 }), fate: fateArb, body: fc.array(tricky, { minLength: 1, maxLength: 8 }) }),
    { maxLength: 60 },
  ),
  unexpected: fc.array(fc.integer({ min: 0, max: 120_000 }), { maxLength: 5 }),
  // Where "now" sits relative to the last callback: straddles the grace edge.
  nowAfterMs: fc.integer({ min: 0, max: 2 * graceMs }),
  seed: fc.integer(),
});

function requestId(i: number): string {
  return i.toString(16).padStart(32, '0');
}

type Case = typeof caseArb extends fc.Arbitrary<infer T> ? T : never;

function build(input: Case) {
  const base = 1_795_000_000_000;
  const callbacks: CallbackRecord[] = [];
  const messages: QueueMessage[] = [];
  const truth = { callbacks: 0, matched: 0, missing: 0, pending: 0, duplicates: 0, mismatches: 0, rejected: 0, notMirrored: 0, unexpected: 0 };
  const now = base + 120_000 + input.nowAfterMs;
  input.callbacks.forEach((c, i) => {
    const body = JSON.stringify({ MSGID: `m${i}`, TEXT: c.body.join('') });
    const record: CallbackRecord = {
      requestId: requestId(i), timeMs: base + c.offsetMs, method: 'POST', uri: '/cb', status: 200, upstreamStatus: '200',
      sentToGateway: true, phase: 'shadow', body, source: { file: 'parity.log', line: i + 1 },
    };
    switch (c.fate.kind) {
      case 'rejected':
        callbacks.push({ ...record, status: 413, upstreamStatus: '' });
        truth.rejected++;
        return;
      case 'not-mirrored':
        callbacks.push({ ...record, sentToGateway: false });
        truth.notMirrored++;
        return;
      case 'dropped':
        callbacks.push(record);
        truth.callbacks++;
        if (record.timeMs < now - graceMs) truth.missing++;
        else truth.pending++;
        return;
      case 'delivered': {
        callbacks.push(record);
        truth.callbacks++;
        truth.matched++;
        truth.duplicates += c.fate.copies - 1;
        if (c.fate.corrupt) truth.mismatches++;
        for (let k = 0; k < c.fate.copies; k++) {
          messages.push({
            messageId: `msg-${i}-${k}`,
            body: c.fate.corrupt ? body.replace('+', ' ').replace('&', '') + (body.includes('+') || body.includes('&') ? '' : 'x') : body,
            attributes: { [requestIdAttribute]: record.requestId },
            sentTimestampMs: record.timeMs + c.fate.lagMs + k,
          });
        }
      }
    }
  });
  input.unexpected.forEach((offset, j) => {
    messages.push({ messageId: `stray-${j}`, body: '{}', attributes: { [requestIdAttribute]: `ffff${j}`.padEnd(32, 'f') }, sentTimestampMs: base + offset });
    if (base + offset < now - graceMs) truth.unexpected++;
  });
  return { callbacks, messages, truth, now };
}

/** Deterministic shuffle, so reordering is part of every case. */
function shuffle<T>(items: T[], seed: number): T[] {
  const out = [...items];
  let state = seed >>> 0 || 1;
  for (let i = out.length - 1; i > 0; i--) {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    const j = state % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

describe('ParityLedger (property)', () => {
  it('counts equal the generated ground truth, whatever the order of arrival', () => {
    fc.assert(
      fc.property(caseArb, (input) => {
        const { callbacks, messages, truth, now } = build(input);
        const ledger = new ParityLedger({ match: { kind: 'request-id' }, graceMs });
        const events = shuffle<['c', CallbackRecord] | ['m', QueueMessage]>(
          [...callbacks.map((c) => ['c', c] as ['c', CallbackRecord]), ...messages.map((m) => ['m', m] as ['m', QueueMessage])],
          input.seed,
        );
        for (const [kind, item] of events) {
          if (kind === 'c') ledger.addCallback(item);
          else ledger.addMessage(item);
        }
        ledger.advance(now);
        const { counts, parity, missing, mismatches } = ledger.judgement();
        expect({
          callbacks: counts.callbacks, matched: counts.matched, missing: counts.missing, pending: counts.pending,
          duplicates: counts.duplicates, mismatches: counts.bodyMismatches, rejected: counts.nginxRejected,
          notMirrored: counts.notMirrored, unexpected: counts.unexpected,
        }).toEqual(truth);
        expect(parity).toBe(truth.matched + truth.missing === 0 ? null : truth.matched / (truth.matched + truth.missing));
        expect(missing.map((m) => m.requestId).sort()).toEqual(
          callbacks.filter((c, i) => input.callbacks[i]!.fate.kind === 'dropped' && c.timeMs < now - graceMs).map((c) => c.requestId).sort(),
        );
        for (const m of mismatches) expect(m.offset).toBeLessThanOrEqual(Math.min(m.callbackBytes, m.messageBytes));
      }),
      { numRuns: 300 },
    );
  });

  it('judging step by step in time order gives the same counts as judging once at the end', () => {
    fc.assert(
      fc.property(caseArb, (input) => {
        // Keep every delivery inside the grace period so early judging cannot see a message as late.
        const inGrace = { ...input, callbacks: input.callbacks.map((c) => (c.fate.kind === 'delivered' ? { ...c, fate: { ...c.fate, lagMs: c.fate.lagMs % graceMs } } : c)) };
        const { callbacks, messages, now } = build(inGrace);
        const batch = new ParityLedger({ match: { kind: 'request-id' }, graceMs });
        callbacks.forEach((c) => batch.addCallback(c));
        messages.forEach((m) => batch.addMessage(m));
        batch.advance(now);
        const stepwise = new ParityLedger({ match: { kind: 'request-id' }, graceMs });
        const timeline = [
          ...callbacks.map((c) => ({ t: c.timeMs, apply: () => stepwise.addCallback(c) })),
          ...messages.map((m) => ({ t: m.sentTimestampMs, apply: () => stepwise.addMessage(m) })),
        ].sort((a, b) => a.t - b.t);
        for (const event of timeline) {
          stepwise.advance(Math.min(event.t, now));
          event.apply();
        }
        stepwise.advance(now);
        expect(stepwise.judgement().counts).toEqual(batch.judgement().counts);
        expect(stepwise.undecided).toBe(batch.undecided);
      }),
      { numRuns: 200 },
    );
  });
});

describe('the gate', () => {
  const judgementWith = (matched: number, missing: number, bodyMismatches = 0) => {
    const ledger = new ParityLedger({ match: { kind: 'request-id' }, graceMs: 0 });
    for (let i = 0; i < matched + missing; i++) {
      const body = bodyMismatches > i ? 'a' : 'b';
      ledger.addCallback({ requestId: requestId(i), timeMs: i, method: 'POST', uri: '/', status: 200, upstreamStatus: '200', sentToGateway: true, phase: 'shadow', body: 'b', source: { file: 'f', line: i } });
      if (i < matched) ledger.addMessage({ messageId: `m${i}`, body, attributes: { [requestIdAttribute]: requestId(i) }, sentTimestampMs: i });
    }
    ledger.advance(1_000_000);
    return ledger.judgement();
  };

  it('passes at or above the gate with enough callbacks judged', () => {
    expect(applyGate(judgementWith(999, 1), { threshold: 0.999, minSample: 100 }).verdict).toBe('pass');
  });
  it('fails below the gate', () => {
    const gate = applyGate(judgementWith(990, 10), { threshold: 0.999, minSample: 100 });
    expect(gate.verdict).toBe('fail');
    expect(gate.reasons[0]).toMatch(/parity 0\.99 is below the gate 0\.999 \(10 missing\)/);
  });
  it('is inconclusive, never a pass, when too few callbacks were judged', () => {
    expect(applyGate(judgementWith(50, 0), { threshold: 0.999, minSample: 100 }).verdict).toBe('inconclusive');
    expect(applyGate(judgementWith(0, 0), { threshold: 0.999, minSample: 1 }).verdict).toBe('inconclusive');
  });
  it('fails on a body mismatch even at parity 1.0', () => {
    const gate = applyGate(judgementWith(200, 0, 1), { threshold: 0.999, minSample: 100 });
    expect(gate.verdict).toBe('fail');
    expect(gate.reasons[0]).toMatch(/1 message bodies differ/);
  });
});
