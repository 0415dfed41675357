/**
 * How many attempts may be on the wire at once, adapted to what API Gateway
 * answers: additive increase, multiplicative decrease, as TCP's congestion window
 * (RFC 5681: slow start below a threshold, one more per window above it) and
 * Vector's adaptive request concurrency do it for their sinks.
 *
 * - An answer (2xx, or a 4xx that is final) widens the window: by one per answer
 *   below the threshold (doubling per round trip), by one per window's worth of
 *   answers above it, up to `max` (ship.window).
 * - "Later" (429, 5xx, a timeout or reset after the request went out) halves it,
 *   once per round trip: only an attempt started after the last decrease can
 *   decrease it again, so 256 answers to the same burst are one signal, not 256.
 * - Unreachable (refused, DNS, TLS, connect timeout: the request never left) shuts
 *   it to one probe. Until the probe gets an answer no other callback attempts, so
 *   a gateway that is down sees one connection attempt per backoff step instead of
 *   one per callback in flight; the first answer reopens it and slow start widens it.
 *
 * Waiting here is not an attempt: it spends no retry budget. No I/O, no timers.
 */
export type WindowSignal = 'answered' | 'later' | 'unreachable';

interface Waiter {
  who: object;
  resolve: (ticket: number) => void;
  reject: (reason: unknown) => void;
  signal: AbortSignal | undefined;
  onAbort: () => void;
}

export class SendWindow {
  private size: number;
  private threshold: number;
  private onWire = 0;
  private started = 0;
  /** Attempts numbered below this started before the last decrease. */
  private decreasedAt = 0;
  /** While unreachable: the callback whose attempts probe the gateway; no other may start. */
  private probe: object | undefined;
  private unreachable = false;
  private readonly waiters: Waiter[] = [];

  constructor(private readonly max: number) {
    this.size = max;
    this.threshold = max;
  }

  /** Attempts allowed on the wire now. */
  get limit(): number {
    return this.unreachable ? 1 : Math.max(1, Math.floor(this.size));
  }

  /** Attempts on the wire now. */
  get inUse(): number {
    return this.onWire;
  }

  /** Whether the gateway is treated as unreachable (one probe at a time). */
  get probing(): boolean {
    return this.unreachable;
  }

  /**
   * Resolves with a ticket when `who` (one callback) may start an attempt;
   * rejects with the signal's reason when it aborts first.
   */
  acquire(who: object, signal?: AbortSignal): Promise<number> {
    signal?.throwIfAborted();
    if (this.waiters.length === 0 && this.admits(who)) return Promise.resolve(this.start(who));
    return new Promise<number>((resolve, reject) => {
      const waiter: Waiter = {
        who,
        resolve,
        reject,
        signal,
        onAbort: () => {
          const at = this.waiters.indexOf(waiter);
          if (at >= 0) this.waiters.splice(at, 1);
          reject(signal!.reason);
          this.admitWaiting();
        },
      };
      signal?.addEventListener('abort', waiter.onAbort, { once: true });
      this.waiters.push(waiter);
      this.admitWaiting();
    });
  }

  /** The attempt with `ticket`, started by `who`, ended with `signal`. */
  release(who: object, ticket: number, signal: WindowSignal): void {
    this.onWire--;
    if (signal === 'unreachable') {
      this.unreachable = true;
      this.probe ??= who;
    } else if (this.unreachable) {
      // The probe got an answer, even a 429 or 5xx: reachable again, from one attempt.
      this.unreachable = false;
      this.probe = undefined;
      this.size = 1;
      if (signal === 'answered') this.widen();
      else this.decreasedAt = this.started;
    } else if (signal === 'answered') {
      this.widen();
    } else if (ticket >= this.decreasedAt) {
      this.size = Math.max(1, this.size / 2);
      this.threshold = this.size;
      this.decreasedAt = this.started;
    }
    this.admitWaiting();
  }

  private widen(): void {
    this.size = Math.min(this.max, this.size + (this.size < this.threshold ? 1 : 1 / this.size));
  }

  /** `who` will not attempt again (final answer, gave up, stopped): another callback may probe. */
  forget(who: object): void {
    if (this.probe === who) this.probe = undefined;
    this.admitWaiting();
  }

  private admits(who: object): boolean {
    if (!this.unreachable) return this.onWire < this.limit;
    return this.onWire === 0 && (this.probe === undefined || this.probe === who);
  }

  private start(who: object): number {
    if (this.unreachable) this.probe = who;
    this.onWire++;
    return this.started++;
  }

  /** First come, first served; while unreachable, the probe goes first. */
  private admitWaiting(): void {
    for (;;) {
      let at = 0;
      if (this.unreachable && this.probe !== undefined) {
        at = this.waiters.findIndex((w) => w.who === this.probe);
        if (at < 0) return;
      }
      const waiter = this.waiters[at];
      if (!waiter || !this.admits(waiter.who)) return;
      this.waiters.splice(at, 1);
      waiter.signal?.removeEventListener('abort', waiter.onAbort);
      waiter.resolve(this.start(waiter.who));
    }
  }
}
