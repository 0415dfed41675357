/**
 * The watch's streaming ack judgement against the one-shot AckLedger (property):
 * fed the same callbacks and answers in any interleaving (an answers log read before
 * or after the parity log, a shipper's repeated lines), once every grace has passed
 * both reach the same counts, unknowns and causes, and the stream holds nothing.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AckLedger } from '../../src/verify/engine/ackLedger.js';
import { AckStream } from '../../src/verify/engine/ackStream.js';
import type { GatewayAnswer } from '../../src/verify/engine/gatewayAnswers.js';
import type { CallbackRecord } from '../../src/verify/engine/records.js';
import { numberedRequestId } from '../support/parityLog.js';

const record = (i: number): CallbackRecord => ({
  requestId: numberedRequestId(i), timeMs: 0, method: 'POST', uri: '/cb', status: 200, upstreamStatus: '200', sentToGateway: true, phase: 'shadow', source: { file: 'p', line: i + 1 },
});
const answers: Record<string, Omit<GatewayAnswer, 'requestId'>> = {
  delivered: { outcome: 'delivered', status: 200, errorType: '', cause: 'ok', source: 'ship' },
  http415: { outcome: 'failed', status: 415, errorType: 'UnsupportedMediaTypeException', cause: 'http-415', source: 'mirror' },
  refused: { outcome: 'failed', status: null, errorType: '', cause: 'connect-refused', source: 'mirror' },
  timeout: { outcome: 'unknown', status: null, errorType: '', cause: 'timeout', source: 'ship' },
  notSent: { outcome: 'not-sent', status: null, errorType: '', cause: 'ok', source: 'mirror' },
};
// What one callback gets: no answer, one, or a shipper's several (in the order listed, then shuffled).
const fates = fc.constantFrom<string[]>([], ['delivered'], ['http415'], ['refused'], ['timeout'], ['notSent'], ['timeout', 'delivered'], ['refused', 'timeout'], ['http415', 'delivered'], ['delivered', 'delivered']);

describe('AckStream agrees with AckLedger (property)', () => {
  it('same counts, unknowns and causes after the grace, whatever order the files are read in', () => {
    fc.assert(
      fc.property(
        fc.array(fates, { maxLength: 40 }).chain((perCallback) => {
          const events: { kind: 'callback' | 'answer'; i: number; answer?: string }[] = [];
          perCallback.forEach((list, i) => {
            events.push({ kind: 'callback', i });
            for (const a of list) events.push({ kind: 'answer', i, answer: a });
          });
          return fc.tuple(fc.constant(perCallback.length), fc.shuffledSubarray(events, { minLength: events.length, maxLength: events.length }), fc.array(fc.integer({ min: 0, max: Math.max(events.length, 1) }), { maxLength: 5 }));
        }),
        ([n, events, advanceAt]) => {
          const graceMs = 1000;
          const ledger = new AckLedger({ graceMs });
          const stream = new AckStream({ graceMs });
          events.forEach((e, k) => {
            // Reads and judgements interleave while everything is within its grace.
            if (advanceAt.includes(k)) stream.advance(500);
            if (e.kind === 'callback') {
              ledger.addCallback(record(e.i));
              stream.addCallback(record(e.i), 10);
            } else {
              const answer = { requestId: numberedRequestId(e.i), ...answers[e.answer!]! };
              ledger.addAnswer(answer);
              stream.addAnswer(answer, 10);
            }
          });
          stream.advance(5000);
          const one = ledger.judge(5000);
          const watched = stream.judgement();
          const pick = (c: typeof one.counts) => ({ callbacks: c.callbacks, matched: c.matched, missing: c.missing, notMirrored: c.notMirrored });
          expect(pick(watched.counts)).toEqual(pick(one.counts));
          expect(watched.counts.callbacks + watched.counts.notMirrored).toBe(n);
          expect(watched.unknownCount).toBe(one.unknownCount);
          expect(Object.fromEntries(Object.entries(watched.byCauseLabel).filter(([, v]) => v > 0))).toEqual(one.byCauseLabel);
          expect(watched.byCause).toEqual(one.byCause);
          expect(stream.undecided).toBe(0);
        },
      ),
      { numRuns: 400 },
    );
  });
});
