/**
 * Property tests of the ledger on a live system (issue 10): callbacks whose body
 * nginx did not capture are matched on the key and counted "body not checked",
 * never a mismatch, whatever the order of arrival, the corruption of the message,
 * or the delivery.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ParityLedger } from '../../src/verify/engine/parityLedger.js';
import { applyGate } from '../../src/verify/engine/gate.js';
import { parseParityLogLine } from '../../src/verify/engine/parityLogLine.js';
import { gateWithInFlight, inFlightFrom } from '../../src/verify/engine/inFlight.js';
import { parseRedrivePolicy, peekRefusal } from '../../src/verify/engine/redrivePolicy.js';
import type { CallbackRecord, QueueMessage } from '../../src/verify/engine/records.js';
import { requestIdAttribute } from '../../src/wire/contract.js';

const graceMs = 30_000;
const base = 1_795_000_000_000;

const callbackArb = fc.record({
  offsetMs: fc.integer({ min: 0, max: 60_000 }),
  captured: fc.boolean(),
  delivered: fc.boolean(),
  corrupt: fc.boolean(),
  text: fc.string({ unit: fc.constantFrom('한', '😀', '&', '+', '"', '\\', 'a'), maxLength: 12 }),
});

function requestId(i: number): string {
  return i.toString(16).padStart(32, '0');
}

/** The parity-log line nginx writes: the body empty when it went to a temp file, content_length its real length. */
function logLine(i: number, body: string, captured: boolean, timeMs: number): string {
  return JSON.stringify({
    v: 1, msec: timeMs / 1000 + 0.001, request_time: 0.001, request_id: requestId(i), method: 'POST', uri: '/cb', status: 200,
    phase: 'shadow', apigw: '1', upstream_status: '200', body: captured ? body : '', content_length: String(Buffer.byteLength(body, 'utf8')),
  });
}

describe('ParityLedger with uncaptured bodies (property)', () => {
  it('an uncaptured body is never a mismatch; a captured one still is; counts match the ground truth', () => {
    fc.assert(
      fc.property(fc.array(callbackArb, { maxLength: 50 }), fc.integer(), (cases, seed) => {
        const now = base + 60_000 + graceMs + 1;
        const ledger = new ParityLedger({ match: { kind: 'request-id' }, graceMs });
        const events: (() => void)[] = [];
        const truth = { matched: 0, missing: 0, bodyMismatches: 0, bodyNotChecked: 0 };
        cases.forEach((c, i) => {
          const body = JSON.stringify({ MSGID: `m${i}`, TEXT: c.text });
          const parsed = parseParityLogLine(logLine(i, body, c.captured, base + c.offsetMs), { file: 'parity.log', line: i + 1 });
          expect(parsed.ok).toBe(true);
          const record = (parsed as { record: CallbackRecord }).record;
          // An empty body is "captured" when the real body was empty too; never here (JSON object).
          expect(record.bodyCaptured === false).toBe(!c.captured);
          events.push(() => ledger.addCallback(record));
          if (!c.delivered) {
            truth.missing++;
            return;
          }
          truth.matched++;
          if (!c.captured) truth.bodyNotChecked++;
          else if (c.corrupt) truth.bodyMismatches++;
          const message: QueueMessage = {
            messageId: `msg-${i}`, body: c.corrupt ? `${body} ` : body, attributes: { [requestIdAttribute]: requestId(i) }, sentTimestampMs: record.timeMs + 5,
          };
          events.push(() => ledger.addMessage(message));
        });
        let state = seed >>> 0 || 1;
        for (let i = events.length - 1; i > 0; i--) {
          state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
          const j = state % (i + 1);
          [events[i], events[j]] = [events[j]!, events[i]!];
        }
        for (const event of events) event();
        ledger.advance(now);
        const judgement = ledger.judgement();
        const { matched, missing, bodyMismatches, bodyNotChecked } = judgement.counts;
        expect({ matched, missing, bodyMismatches, bodyNotChecked }).toEqual(truth);
        expect(judgement.mismatches).toHaveLength(truth.bodyMismatches);
        // "Body not checked" alone never fails the gate.
        const gate = applyGate(judgement, { threshold: 0, minSample: 1 });
        if (truth.bodyMismatches === 0 && truth.matched + truth.missing > 0) expect(gate.verdict).toBe('pass');
      }),
      { numRuns: 300 },
    );
  });
});

describe('parseParityLogLine: was the body captured?', () => {
  const line = (fields: Record<string, unknown>) =>
    JSON.stringify({ msec: 1_795_000_000.5, request_id: 'a'.repeat(32), status: 200, apigw: '1', upstream_status: '200', ...fields });
  const parse = (fields: Record<string, unknown>) => {
    const parsed = parseParityLogLine(line(fields), { file: 'p', line: 1 });
    if (!parsed.ok) throw new Error(parsed.reason);
    return parsed.record;
  };

  it('a body whose UTF-8 length is the content length was captured', () => {
    expect(parse({ body: '{"A":"한글"}', content_length: '14' })).toMatchObject({ body: '{"A":"한글"}' });
    expect(parse({ body: '{"A":"한글"}', content_length: '14' }).bodyCaptured).toBeUndefined();
  });
  it('an empty body with a content length above zero was spilled to a temp file', () => {
    const record = parse({ body: '', content_length: '100030' });
    expect(record.bodyCaptured).toBe(false);
    expect(record.body).toBeUndefined();
  });
  it('an empty request logs content_length 0 (or empty) and counts as captured', () => {
    expect(parse({ body: '', content_length: '0' })).toMatchObject({ body: '' });
    expect(parse({ body: '', content_length: '' })).toMatchObject({ body: '' });
  });
  it('a line of an older render (no content_length) keeps its body as logged', () => {
    expect(parse({ body: 'x' })).toMatchObject({ body: 'x' });
  });
});

describe('the gate with messages in flight (property)', () => {
  const countsArb = fc.record({
    delivered: fc.integer({ min: 0, max: 300 }),
    lost: fc.integer({ min: 0, max: 30 }),
    held: fc.integer({ min: 0, max: 30 }),
    extraInFlight: fc.integer({ min: 0, max: 10 }),
    threshold: fc.constantFrom(0.9, 0.99, 0.999, 1),
  });

  it('held messages judged missing never fail the gate on their own; lost ones beyond what can be in flight still do', () => {
    fc.assert(
      fc.property(countsArb, ({ delivered, lost, held, extraInFlight, threshold }) => {
        // Through the ledger: the held messages never reach this run, so their callbacks go missing.
        const ledger = new ParityLedger({ match: { kind: 'request-id' }, graceMs });
        const total = delivered + lost + held;
        for (let i = 0; i < total; i++) {
          ledger.addCallback({ requestId: requestId(i), timeMs: base, method: 'POST', uri: '/cb', status: 200, upstreamStatus: '200', sentToGateway: true, phase: 'shadow', body: `{"i":${i}}`, source: { file: 'p', line: i + 1 } });
          if (i < delivered) ledger.addMessage({ messageId: `m${i}`, body: `{"i":${i}}`, attributes: { [requestIdAttribute]: requestId(i) }, sentTimestampMs: base + 1 });
        }
        ledger.advance(base + graceMs + 1);
        const judgement = ledger.judgement();
        expect(judgement.counts).toMatchObject({ matched: delivered, missing: lost + held });
        const inFlight = inFlightFrom({ visible: 0, notVisible: held + extraInFlight, delayed: 0 }, { visible: 0, notVisible: held, delayed: 0 }, 0);
        const plain = applyGate(judgement, { threshold, minSample: 1 });
        const gate = gateWithInFlight(plain, judgement.counts, inFlight);
        // Never turns anything into a pass, never turns a pass or an inconclusive into a failure.
        if (plain.verdict !== 'fail') expect(gate).toEqual(plain);
        if (plain.verdict === 'fail') expect(gate.verdict).not.toBe('pass');
        // Nothing lost: whatever the holder keeps, never a failure.
        if (lost === 0 && total > 0) expect(gate.verdict).not.toBe('fail');
        // A failure survives exactly when even every in-flight message as a match leaves parity under the gate.
        if (plain.verdict === 'fail') {
          const bestCase = (delivered + Math.min(lost + held, held + extraInFlight)) / total;
          expect(gate.verdict).toBe(bestCase < threshold ? 'fail' : 'inconclusive');
        }
      }),
      { numRuns: 500 },
    );
  });

  it('the run\'s own peeked messages are not counted as someone else\'s', () => {
    expect(inFlightFrom({ visible: 50, notVisible: 0, delayed: 0 }, { visible: 0, notVisible: 50, delayed: 0 }, 50).othersInFlight).toBe(0);
    expect(inFlightFrom({ visible: 50, notVisible: 3, delayed: 2 }, { visible: 0, notVisible: 53, delayed: 0 }, 50).othersInFlight).toBe(5);
  });
});

describe('parseRedrivePolicy and peekRefusal', () => {
  it('reads the policy defensively and refuses only without consent', () => {
    const policy = parseRedrivePolicy('{"deadLetterTargetArn":"arn:aws:sqs:ap-northeast-2:123456789012:dlq","maxReceiveCount":"5"}');
    expect(policy).toEqual({ deadLetterTargetArn: 'arn:aws:sqs:ap-northeast-2:123456789012:dlq', maxReceiveCount: 5 });
    expect(parseRedrivePolicy('not json')).toBeUndefined();
    expect(parseRedrivePolicy('{"maxReceiveCount":0}')).toBeUndefined();
    expect(parseRedrivePolicy(undefined)).toBeUndefined();
    expect(peekRefusal(policy, 1, false)).toMatch(/maxReceiveCount 5.*--allow-redrive-receives/);
    expect(peekRefusal(policy, 1, true)).toBeUndefined();
    expect(peekRefusal(undefined, 1, false)).toBeUndefined();
  });
});
