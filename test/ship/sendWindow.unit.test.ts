import { describe, expect, it } from 'vitest';
import { SendWindow } from '../../src/ship/sendWindow.js';
import { windowSignal } from '../../src/ship/shipRetry.js';

/** Callbacks as the shipper hands them over: any object, one per callback. */
const callbacks = (n: number) => Array.from({ length: n }, (_, i) => ({ i }));

/** Settles pending promise reactions so waiters that were admitted have run. */
const settle = () => new Promise((r) => setImmediate(r));

describe('the send window', () => {
  it('admits up to its maximum at once and queues the rest in arrival order', async () => {
    const w = new SendWindow(3);
    const [a, b, c, d, e] = callbacks(5);
    const order: number[] = [];
    const tickets = [a, b, c, d, e].map((who) => w.acquire(who!).then((t) => (order.push(who!.i), t)));
    await settle();
    expect(order).toEqual([0, 1, 2]);
    expect(w.inUse).toBe(3);
    w.release(b!, await tickets[1]!, 'answered');
    await settle();
    expect(order).toEqual([0, 1, 2, 3]);
    w.release(a!, await tickets[0]!, 'answered');
    await settle();
    expect(order).toEqual([0, 1, 2, 3, 4]);
  });

  it('halves on 429/5xx once per round trip, then grows back by one per window of answers', async () => {
    const w = new SendWindow(64);
    const burst = callbacks(64);
    const tickets = await Promise.all(burst.map((who) => w.acquire(who)));
    // Every attempt of the same burst answers "later": one decrease, not 64.
    for (const [i, who] of burst.entries()) w.release(who, tickets[i]!, 'later');
    expect(w.limit).toBe(32);
    // An attempt started after the decrease can halve it again.
    const next = callbacks(1)[0]!;
    w.release(next, await w.acquire(next), 'later');
    expect(w.limit).toBe(16);
    // Above the threshold: about one more per window's worth of answers (17 answers at 16).
    for (let i = 0; i < 17; i++) {
      const who = { i };
      w.release(who, await w.acquire(who), 'answered');
    }
    expect(w.limit).toBe(17);
  });

  it('shuts to one probe when the gateway is unreachable: the others wait, spending no attempt', async () => {
    const w = new SendWindow(8);
    const all = callbacks(8);
    const tickets = await Promise.all(all.map((who) => w.acquire(who)));
    // The first refused connection names the probe; the rest of the burst refuse too.
    for (const [i, who] of all.entries()) w.release(who, tickets[i]!, 'unreachable');
    expect(w.probing).toBe(true);
    expect(w.limit).toBe(1);
    // The others come back from their backoff: none may start while the probe has not answered.
    let started = 0;
    const waiting = all.slice(1).map((who) => w.acquire(who).then((t) => (started++, { who, t })));
    await settle();
    expect(started).toBe(0);
    // The probe tries again, alone, and is refused again: still nobody else.
    const probe = all[0]!;
    w.release(probe, await w.acquire(probe), 'unreachable');
    await settle();
    expect(started).toBe(0);
    // The probe gets an answer: reopened, and slow start lets the others in, doubling per round trip.
    w.release(probe, await w.acquire(probe), 'answered');
    await settle();
    expect(w.probing).toBe(false);
    expect(started).toBe(2);
    const first = await Promise.race(waiting);
    w.release(first.who, first.t, 'answered');
    await settle();
    expect(started).toBe(4);
  });

  it('hands the probe to the next callback when the probe gives up or stops', async () => {
    const w = new SendWindow(4);
    const [a, b] = callbacks(2);
    w.release(a!, await w.acquire(a!), 'unreachable');
    let bStarted = false;
    const bTicket = w.acquire(b!).then((t) => ((bStarted = true), t));
    await settle();
    expect(bStarted).toBe(false);
    w.forget(a!);
    await settle();
    expect(bStarted).toBe(true);
    // b is the probe now; a 503 is an answer: reachable again, from one attempt.
    w.release(b!, await bTicket, 'later');
    expect(w.probing).toBe(false);
    expect(w.limit).toBe(1);
  });

  it('rejects a waiter whose signal aborts, and lets the next one in', async () => {
    const w = new SendWindow(1);
    const [a, b, c] = callbacks(3);
    const ta = await w.acquire(a!);
    const stop = new AbortController();
    const waitingB = w.acquire(b!, stop.signal);
    let cStarted = false;
    const waitingC = w.acquire(c!).then((t) => ((cStarted = true), t));
    stop.abort(new Error('stopping'));
    await expect(waitingB).rejects.toThrow('stopping');
    w.release(a!, ta, 'answered');
    await waitingC;
    expect(cStarted).toBe(true);
    expect(() => w.acquire(a!, stop.signal)).toThrow('stopping');
  });
});

describe('what an attempt says about the gateway', () => {
  it('answered, later or unreachable', () => {
    expect(windowSignal({ kind: 'answer', status: 200, errorType: '' })).toBe('answered');
    expect(windowSignal({ kind: 'answer', status: 400, errorType: 'BadRequestException' })).toBe('answered');
    expect(windowSignal({ kind: 'answer', status: 429, errorType: 'TooManyRequestsException' })).toBe('later');
    expect(windowSignal({ kind: 'answer', status: 503, errorType: '' })).toBe('later');
    expect(windowSignal({ kind: 'failure', cause: 'timeout', sent: true })).toBe('later');
    expect(windowSignal({ kind: 'failure', cause: 'reset', sent: true })).toBe('later');
    expect(windowSignal({ kind: 'failure', cause: 'connect-refused', sent: false })).toBe('unreachable');
    expect(windowSignal({ kind: 'failure', cause: 'dns', sent: false })).toBe('unreachable');
    expect(windowSignal({ kind: 'failure', cause: 'tls', sent: false })).toBe('unreachable');
  });
});
