/**
 * The ledger's order check: judging as items arrive, in any order and with any
 * judging times up to `now`, gives exactly the all-at-once judgement (every
 * callback, then every message, judged once at `now`) whenever it counted no
 * order conflict. This is what lets `verify --sqs-archive` read in time order and
 * fall back only when it must.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ParityLedger, type MissingCallback } from '../../src/verify/engine/parityLedger.js';
import type { CallbackRecord, QueueMessage } from '../../src/verify/engine/records.js';
import { requestIdAttribute } from '../../src/wire/contract.js';

const graceMs = 30_000;
const base = 1_795_000_000_000;
const id = (i: number) => i.toString(16).padStart(32, '0');

const itemArb = fc.record({
  key: fc.integer({ min: 0, max: 40 }),
  side: fc.constantFrom('callback', 'message', 'message'),
  offsetMs: fc.integer({ min: 0, max: 200_000 }),
  corrupt: fc.boolean(),
});

const caseArb = fc.record({
  items: fc.array(itemArb, { maxLength: 80 }),
  // How arrival order departs from time order: 0 = sorted by time, larger = more shuffled.
  jitterMs: fc.constantFrom(0, 0, 5_000, 60_000, 1_000_000),
  seed: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
  judgeEvery: fc.integer({ min: 1, max: 10 }),
  marginMs: fc.constantFrom(0, 10_000, 60_000),
  dedupeWindowMs: fc.constantFrom(1_000, 60_000, 600_000),
  nowAfterMs: fc.integer({ min: 0, max: 100_000 }),
});

type Case = typeof caseArb extends fc.Arbitrary<infer T> ? T : never;
type Event = { t: number; order: number; item: ['c', CallbackRecord] | ['m', QueueMessage] };

function events(input: Case): Event[] {
  let state = input.seed;
  const random = () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
  return input.items.map((it, n) => {
    const t = base + it.offsetMs;
    const body = JSON.stringify({ MSGID: `m${it.key}` });
    const item: Event['item'] =
      it.side === 'callback'
        ? ['c', { requestId: id(it.key), timeMs: t, method: 'POST', uri: '/cb', status: 200, upstreamStatus: '200', sentToGateway: true, phase: 'shadow', body, source: { file: 'parity.log', line: n + 1 } }]
        : ['m', { messageId: `q${n}`, body: it.corrupt ? `${body} ` : body, attributes: { [requestIdAttribute]: id(it.key) }, sentTimestampMs: t }];
    return { t, order: t + random() * input.jitterMs, item };
  });
}

function judge(ledger: ParityLedger) {
  const j = ledger.judgement();
  const byId = (a: { requestId: string }, b: { requestId: string }) => a.requestId.localeCompare(b.requestId);
  return {
    counts: j.counts,
    parity: j.parity,
    missing: [...j.missing].sort(byId),
    mismatches: [...j.mismatches].sort((a, b) => a.messageId.localeCompare(b.messageId)),
    unexpected: [...j.unexpected].sort((a, b) => a.messageId.localeCompare(b.messageId)),
    lag: { count: j.lagMs.count, max: j.lagMs.max, p50: j.lagMs.p50 },
  };
}

describe('ParityLedger order check (property)', () => {
  it('judging as items arrive equals judging all at once whenever no order conflict was counted', () => {
    let conflictFree = 0;
    let runs = 0;
    fc.assert(
      fc.property(caseArb, (input) => {
        runs++;
        const all = events(input);
        const now = base + 200_000 + input.nowAfterMs;
        const options = { match: { kind: 'request-id' as const }, graceMs, dedupeWindowMs: input.dedupeWindowMs };

        // The log and the archive are each in their (roughly time) order; a reader
        // interleaves them but keeps each one's own order.
        const arrival = [...all].sort((a, b) => a.order - b.order);

        // All at once: the callbacks in log order, then the messages in archive order.
        const atOnce = new ParityLedger(options);
        for (const e of arrival) if (e.item[0] === 'c') atOnce.addCallback(e.item[1]);
        for (const e of arrival) if (e.item[0] === 'm') atOnce.addMessage(e.item[1]);
        atOnce.advance(now);

        // As they arrive (roughly in time order), judged every few items at the newest time seen minus a margin.
        const streamed = new ParityLedger({ ...options, orderCheck: true });
        const judgedMissing: MissingCallback[] = [];
        streamed.onMissing = (m) => judgedMissing.push(m);
        let newest = Number.NEGATIVE_INFINITY;
        arrival.forEach((e, n) => {
          if (e.item[0] === 'c') streamed.addCallback(e.item[1]);
          else streamed.addMessage(e.item[1]);
          newest = Math.max(newest, e.t);
          if (n % input.judgeEvery === 0) streamed.advance(Math.min(newest - input.marginMs, now));
        });
        streamed.advance(now);

        expect(judgedMissing.map((m) => m.requestId).sort()).toEqual(streamed.judgement().missing.map((m) => m.requestId).sort());
        if (streamed.orderConflicts > 0) return;
        conflictFree++;
        expect(judge(streamed)).toEqual(judge(atOnce));
        expect(streamed.undecided).toBe(atOnce.undecided);
      }),
      { numRuns: 1000 },
    );
    // The check must not pass by calling everything a conflict.
    expect(conflictFree).toBeGreaterThan(runs / 3);
  });

  it('counts a conflict when a message comes after its callback was judged missing', () => {
    const ledger = new ParityLedger({ match: { kind: 'request-id' }, graceMs, orderCheck: true });
    ledger.addCallback({ requestId: id(1), timeMs: base, method: 'POST', uri: '/', status: 200, upstreamStatus: '200', sentToGateway: true, phase: 'shadow', source: { file: 'f', line: 1 } });
    ledger.advance(base + graceMs + 1);
    expect(ledger.judgement().counts.missing).toBe(1);
    expect(ledger.orderConflicts).toBe(0);
    ledger.addMessage({ messageId: 'q1', body: '{}', attributes: { [requestIdAttribute]: id(1) }, sentTimestampMs: base + 5 });
    expect(ledger.orderConflicts).toBe(1);
    expect(ledger.firstOrderConflict).toBe('message-after-missing');
  });

  it('counts a conflict for a late copy of a message whose key it forgot, and none without orderCheck', () => {
    for (const orderCheck of [true, false]) {
      const ledger = new ParityLedger({ match: { kind: 'request-id' }, graceMs, dedupeWindowMs: 1_000, orderCheck });
      ledger.addCallback({ requestId: id(2), timeMs: base, method: 'POST', uri: '/', status: 200, upstreamStatus: '200', sentToGateway: true, phase: 'shadow', source: { file: 'f', line: 1 } });
      ledger.addMessage({ messageId: 'q1', body: '{}', attributes: { [requestIdAttribute]: id(2) }, sentTimestampMs: base + 5 });
      ledger.advance(base + 10_000);
      expect(ledger.rememberedKeys).toEqual({ recent: 0, fingerprints: orderCheck ? 1 : 0 });
      ledger.addMessage({ messageId: 'q2', body: '{}', attributes: { [requestIdAttribute]: id(2) }, sentTimestampMs: base + 5 });
      expect(ledger.orderConflicts).toBe(orderCheck ? 1 : 0);
    }
  });
});

describe('onMissing', () => {
  it('names every callback judged missing, in the order judged, also past the list limit', () => {
    const ledger = new ParityLedger({ match: { kind: 'request-id' }, graceMs: 0, listLimit: 3 });
    const named: string[] = [];
    ledger.onMissing = (m) => named.push(m.requestId);
    for (let i = 0; i < 10; i++) {
      ledger.addCallback({ requestId: id(i), timeMs: base + i * 1000, method: 'POST', uri: '/', status: 200, upstreamStatus: '200', sentToGateway: true, phase: 'shadow', source: { file: 'f', line: i + 1 } });
      ledger.advance(base + i * 1000 + 1);
    }
    expect(named).toEqual(Array.from({ length: 10 }, (_, i) => id(i)));
    const j = ledger.judgement();
    expect(j.counts.missing).toBe(10);
    // The report keeps the first ones; a watch view keeps the recent ones from onMissing.
    expect(j.missing.map((m) => m.requestId)).toEqual([id(0), id(1), id(2)]);
  });
});
