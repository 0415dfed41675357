/**
 * The shipper's retry path with the file system and HTTP replaced by scripted
 * adapters: the first attempt runs outside p-retry and hands its failure over, so
 * these check that the budget, the give-up age and the ack line are what p-retry
 * alone gave (the same paths run through real nginx in shipFaults.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { Shipper, type ShipperAdapters } from '../../src/ship/shipper.js';
import type { AttemptResult } from '../../src/ship/shipRetry.js';
import type { TailLine } from '../../src/ship/parityLogTail.js';
import { numberedRequestId, parityLine } from '../support/parityLog.js';

/** Callback `i`'s parity-log line, received by nginx at `receivedMs`. */
const line = (i: number, receivedMs: number) => Buffer.from(parityLine(numberedRequestId(i), '{}', { msec: receivedMs }), 'latin1');

/** Runs the shipper over `lines` with a sender answering from `answers` (the last repeats); stops once every line has an ack line. */
async function ship(lines: Buffer[], answers: AttemptResult[], backoff: { retries: number; giveUpAfterMs: number }) {
  const acks: Record<string, unknown>[] = [];
  const sent: string[] = [];
  let handed = false;
  const stop = new AbortController();
  const adapters: ShipperAdapters = {
    tail: {
      next: async () => {
        if (handed) return [];
        handed = true;
        let end = 0;
        return lines.map((bytes): TailLine => ({ fileId: '1:1', path: 'parity.log', end: (end += bytes.length + 1), bytes }));
      },
      backlog: async () => [],
      paths: () => new Map([['1:1', 'parity.log']]),
    },
    sender: {
      attempt: async (request) => {
        sent.push(request.headers['x-request-id']!);
        return answers[Math.min(sent.filter((id) => id === request.headers['x-request-id']).length, answers.length) - 1]!;
      },
      close: async () => undefined,
    },
    ackLog: {
      append: (line) => {
        acks.push(JSON.parse(line) as Record<string, unknown>);
        if (acks.length === lines.length) stop.abort();
      },
      flush: async () => undefined,
    },
    saveCheckpoint: async () => undefined,
  };
  const shipper = new Shipper(
    {
      window: 8, targets: { 'execute-api': { host: 'gw.example', port: 443, uri: '/dev/callbacks' } }, requestIdHeader: 'x-request-id', probeHeader: 'x-mirror-probe',
      backoff: { minBackoffMs: 1, maxBackoffMs: 2, ...backoff }, idlePollMs: 5,
    },
    adapters,
  );
  const summary = await shipper.run(stop.signal);
  return { acks, sent, summary };
}

const unavailable: AttemptResult = { kind: 'answer', status: 503, errorType: 'ServiceUnavailableException' };
const ok: AttemptResult = { kind: 'answer', status: 200, errorType: '' };

describe('the shipper retries a callback', () => {
  it('answered at the first attempt: one attempt, no retry', async () => {
    const { acks, summary } = await ship([line(1, Date.now())], [ok], { retries: 3, giveUpAfterMs: 60_000 });
    expect(acks).toMatchObject([{ outcome: 'delivered', attempts: 1, status: 200 }]);
    expect(summary).toMatchObject({ attempts: 1, retries: 0, delivered: 1 });
  });

  it('after a failed first attempt, until an answer: the attempts and retries counted once each', async () => {
    const { acks, summary } = await ship([line(1, Date.now())], [unavailable, unavailable, ok], { retries: 3, giveUpAfterMs: 60_000 });
    expect(acks).toMatchObject([{ outcome: 'delivered', attempts: 3, status: 200, uncertain: false }]);
    expect(summary).toMatchObject({ attempts: 3, retries: 2, delivered: 1 });
  });

  it('within its budget: `retries` retries after the first attempt, then given up with the last answer', async () => {
    const { acks, sent } = await ship([line(1, Date.now()), line(2, Date.now())], [unavailable], { retries: 2, giveUpAfterMs: 60_000 });
    expect(acks).toHaveLength(2);
    for (const ack of acks) expect(ack).toMatchObject({ outcome: 'gave-up', attempts: 3, status: 503, error_type: 'ServiceUnavailableException', cause: 'http-5xx' });
    expect(sent).toHaveLength(6);
  });

  it('older than the give-up age: tried once, not retried, recorded as given up', async () => {
    const { acks, sent } = await ship([line(1, Date.now() - 120_000)], [unavailable], { retries: 5, giveUpAfterMs: 60_000 });
    expect(acks).toMatchObject([{ outcome: 'gave-up', attempts: 1, cause: 'http-5xx' }]);
    expect(sent).toHaveLength(1);
  });
});
