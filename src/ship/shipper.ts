/**
 * The shipping loop: reads parity-log lines only while the in-flight window has
 * room, sends each callback with retries (p-retry), appends each final answer to
 * the ack log, and moves the checkpoint past lines whose answers, and all before
 * them, are final. The decisions are the pure modules beside it (shipLine,
 * shipRetry, shipWatermark, ackRecord); the file system, HTTP and metrics come in
 * as adapters.
 *
 * At least once: a line is committed only after its ack line is written, so a
 * crash re-sends at most what was in flight or answered since the last checkpoint.
 */
import pRetry from 'p-retry';
import { ackLine, type FinalAnswer, type ShipOutcome } from './ackRecord.js';
import { decideShipLine, type ShipItem, type ShipTargetName } from './shipLine.js';
import { judgeAttempt, retryOptions, windowSignal, type AttemptResult, type AttemptVerdict, type BackoffSettings, type ShipCause } from './shipRetry.js';
import { SendWindow } from './sendWindow.js';
import { ShipWatermark, type WatermarkTicket } from './shipWatermark.js';
import type { CheckpointFile } from './shipCheckpoint.js';
import type { GatewaySender } from './gatewaySender.js';
import type { TailLine } from './parityLogTail.js';
import type { ShipMetrics } from './shipMetrics.js';

export interface ShipTarget {
  host: string;
  port: number;
  /** Path on the host, stage or base path included. */
  uri: string;
}

export interface ShipperSettings {
  window: number;
  targets: Partial<Record<ShipTargetName, ShipTarget>>;
  requestIdHeader: string;
  probeHeader: string;
  backoff: BackoffSettings;
  /** How often the checkpoint is written while lines are committed (default 200 ms). */
  checkpointEveryMs?: number;
  /**
   * How often the checkpoint is rewritten when nothing moved (default 5 s): its
   * time is the shipper's heartbeat, which `cutover advance` reads to know the
   * shipper is running (ship.maxCheckpointAge).
   */
  checkpointHeartbeatMs?: number;
  /** How long to wait when the logs have nothing new (default 50 ms). */
  idlePollMs?: number;
  /** How many not-captured request ids to name (default 100; the count is always whole). */
  namedLimit?: number;
  /**
   * Lines read but not yet committed, at most (default 32 x window). One callback
   * retrying while later ones are answered holds the checkpoint back; past this
   * many lines reading waits, so memory and the re-sends after a crash stay bounded.
   */
  maxUncommitted?: number;
  /** Request ids whose final answer the ack log already holds (from before a restart): not sent again. */
  alreadyAnswered?: ReadonlySet<string>;
}

export interface ShipperAdapters {
  tail: {
    next(): Promise<TailLine[]>;
    backlog(): Promise<{ fileId: string; path: string; unreadBytes: number }[]>;
    paths(): Map<string, string>;
  };
  sender: GatewaySender;
  ackLog: { append(line: string): void; flush(): Promise<void> };
  saveCheckpoint(files: CheckpointFile[]): Promise<void>;
  metrics?: ShipMetrics;
  now?: () => number;
}

export interface ShipCounts {
  linesRead: number;
  delivered: number;
  rejected: number;
  gaveUp: number;
  notCaptured: number;
  skipped: number;
  /** Lines past the checkpoint whose answer the ack log already held: not sent again. */
  answeredBefore: number;
  attempts: number;
  retries: number;
  /** Final answers by cause (ok included). */
  byCause: Partial<Record<ShipCause, number>>;
}

export interface ShipStatus extends ShipCounts {
  inFlight: number;
  /** Attempts allowed on the wire now (src/ship/sendWindow.ts): ship.window when API Gateway answers well. */
  sendLimit: number;
  /** API Gateway unreachable: one callback probes it, the others wait. */
  probing: boolean;
  oldestInFlightMs: number;
  backlogBytes: number;
  checkpointAgeMs: number;
}

export interface ShipSummary extends ShipCounts {
  /** Request ids of callbacks whose body the parity log did not hold (first namedLimit). */
  notCapturedIds: string[];
  /** Callbacks in flight at shutdown: not committed, sent again on restart. */
  unfinishedAtStop: number;
}

class RetryableAttempt extends Error {
  constructor(readonly verdict: AttemptVerdict) {
    super(`attempt failed: ${verdict.cause}`);
  }
}

export class Shipper {
  readonly counts: ShipCounts = { linesRead: 0, delivered: 0, rejected: 0, gaveUp: 0, notCaptured: 0, skipped: 0, answeredBefore: 0, attempts: 0, retries: 0, byCause: {} };
  private readonly notCapturedIds: string[] = [];
  /** Callbacks in the window, each with its way to a written ack line. */
  private readonly inFlight = new Map<ShipItem, Promise<void>>();
  private readonly watermark = new ShipWatermark();
  private lastCheckpointMs: number;
  // Dirty from the start: the first checkpoint says the shipper is running, before any line moves it.
  private checkpointDirty = true;
  private checkpointing: Promise<void> | undefined;
  private backlogBytes = 0;
  private readonly retryStop = new AbortController();
  private stoppedUnanswered = 0;
  private readonly sendWindow: SendWindow;

  constructor(
    private readonly settings: ShipperSettings,
    private readonly adapters: ShipperAdapters,
  ) {
    this.lastCheckpointMs = this.now();
    this.sendWindow = new SendWindow(settings.window);
  }

  private now(): number {
    return (this.adapters.now ?? Date.now)();
  }

  /** Where a file's shipping starts (the tail asks, from the checkpoint). */
  startFile(fileId: string, offset: number): void {
    this.watermark.start(fileId, offset);
  }

  /** Ships until `signal` aborts, then finishes the attempts in flight and writes the checkpoint. */
  async run(signal: AbortSignal): Promise<ShipSummary> {
    let queue: TailLine[] = [];
    let next = 0;
    // One waiter at a time, woken by an answer, the idle timer or the stop signal.
    // (Racing a long-lived promise instead would leave a reaction on it per wait.)
    const onAbort = () => this.wakeUp();
    signal.addEventListener('abort', onAbort, { once: true });
    while (!signal.aborted) {
      if (this.inFlight.size >= this.settings.window || (this.inFlight.size > 0 && this.watermark.outstanding >= (this.settings.maxUncommitted ?? this.settings.window * 32))) {
        await this.sleep();
        this.maybeCheckpoint();
        continue;
      }
      if (next >= queue.length) {
        queue = await this.adapters.tail.next();
        next = 0;
        if (queue.length === 0) {
          this.maybeCheckpoint();
          await this.sleep(this.settings.idlePollMs ?? 50);
          continue;
        }
      }
      this.take(queue[next++]!);
      if (this.counts.linesRead % 256 === 0) this.maybeCheckpoint();
    }
    signal.removeEventListener('abort', onAbort);
    // SIGTERM: no new attempt starts; attempts on the wire get their answer.
    this.retryStop.abort();
    await Promise.allSettled([...this.inFlight.values()]);
    await this.checkpointing;
    await this.writeCheckpoint();
    return { ...this.counts, byCause: { ...this.counts.byCause }, notCapturedIds: [...this.notCapturedIds], unfinishedAtStop: this.stoppedUnanswered };
  }

  async status(): Promise<ShipStatus> {
    const now = this.now();
    let oldest = now;
    for (const item of this.inFlight.keys()) oldest = Math.min(oldest, item.receivedMs);
    const unread = (await this.adapters.tail.backlog()).reduce((sum, f) => sum + f.unreadBytes, 0);
    this.backlogBytes = unread;
    const status: ShipStatus = {
      ...this.counts,
      byCause: { ...this.counts.byCause },
      inFlight: this.inFlight.size,
      sendLimit: this.sendWindow.limit,
      probing: this.sendWindow.probing,
      oldestInFlightMs: this.inFlight.size > 0 ? now - oldest : 0,
      backlogBytes: unread,
      checkpointAgeMs: now - this.lastCheckpointMs,
    };
    this.adapters.metrics?.update({
      oldestInFlightSeconds: status.oldestInFlightMs / 1000,
      backlogBytes: status.backlogBytes,
      checkpointAgeSeconds: status.checkpointAgeMs / 1000,
      inFlight: status.inFlight,
      sendLimit: status.sendLimit,
    });
    return status;
  }

  private take(line: TailLine): void {
    this.counts.linesRead++;
    const ticket = this.watermark.add(line.fileId, line.end);
    const decision = decideShipLine(line.bytes);
    if (decision.kind === 'skip') {
      this.counts.skipped++;
      this.watermark.finish(ticket);
      this.checkpointDirty = true;
      return;
    }
    if (decision.kind === 'not-captured') {
      const now = this.now();
      if (this.notCapturedIds.length < (this.settings.namedLimit ?? 100)) this.notCapturedIds.push(decision.requestId);
      this.record(
        { requestId: decision.requestId, target: decision.target, outcome: 'not-captured', cause: 'body-not-captured', uncertain: false, attempts: 0, firstAttemptMs: now, finalMs: now },
        undefined,
      );
      this.watermark.finish(ticket);
      return;
    }
    const item = decision.item;
    if (this.settings.alreadyAnswered?.has(item.requestId)) {
      this.counts.answeredBefore++;
      this.watermark.finish(ticket);
      this.checkpointDirty = true;
      return;
    }
    this.inFlight.set(item, this.carry(item, ticket));
  }

  /** One callback from the window to its final answer and its ack line written; then out of the window. */
  private async carry(item: ShipItem, ticket: WatermarkTicket): Promise<void> {
    try {
      let answer: FinalAnswer;
      try {
        answer = await this.ship(item);
      } catch {
        // Stopped while waiting to retry: no final answer, not committed, sent again after a restart.
        this.stoppedUnanswered++;
        return;
      }
      this.record(answer, (answer.finalMs - item.receivedMs) / 1000);
      this.watermark.finish(ticket);
      // It leaves the window only once its ack line is written: an answer still
      // queued for the write would be sent again after a kill, so counting it as in
      // flight keeps a crash's extra copies within the window (test/ship/shipKill.test.ts).
      await this.adapters.ackLog.flush();
    } finally {
      this.inFlight.delete(item);
      this.wakeUp();
    }
  }

  private record(answer: FinalAnswer, lagSeconds: number | undefined): void {
    const key = ({ delivered: 'delivered', rejected: 'rejected', 'gave-up': 'gaveUp', 'not-captured': 'notCaptured' } as const satisfies Record<ShipOutcome, keyof ShipCounts>)[answer.outcome];
    this.counts[key]++;
    this.counts.byCause[answer.cause] = (this.counts.byCause[answer.cause] ?? 0) + 1;
    this.adapters.ackLog.append(ackLine(answer));
    this.adapters.metrics?.final(answer.outcome, answer.cause, lagSeconds);
    this.checkpointDirty = true;
  }

  private async ship(item: ShipItem): Promise<FinalAnswer> {
    const target = this.settings.targets[item.target];
    const firstAttemptMs = this.now();
    if (!target) {
      return { requestId: item.requestId, target: item.target, outcome: 'rejected', cause: 'other', uncertain: false, attempts: 0, firstAttemptMs, finalMs: firstAttemptMs };
    }
    const headers: Record<string, string> = { [this.settings.requestIdHeader]: item.requestId };
    if (item.contentType) headers['content-type'] = item.contentType;
    if (item.probe) headers[this.settings.probeHeader] = item.probe;
    const request = { host: target.host, port: target.port, path: `${target.uri}${item.query}`, headers, body: item.body };
    let attempts = 0;
    let status: number | undefined;
    let errorType: string | undefined;
    let uncertain = false;
    let lastCause: ShipCause = 'other';
    let final: AttemptVerdict | undefined;
    const answer = (verdict: AttemptVerdict, outcome: ShipOutcome): FinalAnswer => ({
      requestId: item.requestId,
      target: item.target,
      outcome,
      cause: verdict.cause,
      ...(status !== undefined ? { status } : {}),
      ...(errorType !== undefined ? { errorType } : {}),
      uncertain: uncertain && outcome !== 'delivered',
      attempts,
      firstAttemptMs,
      finalMs: this.now(),
    });
    const attempt = async (): Promise<AttemptVerdict> => {
      // Waiting for the send window is not an attempt: no retry spent, nothing counted.
      const ticket = await this.sendWindow.acquire(item, this.retryStop.signal);
      let result: AttemptResult;
      try {
        result = await this.adapters.sender.attempt(request);
      } catch (error) {
        this.sendWindow.release(item, ticket, 'later');
        throw error;
      }
      this.sendWindow.release(item, ticket, windowSignal(result));
      if (attempts > 0) {
        this.counts.retries++;
        this.adapters.metrics?.retry(lastCause);
      }
      attempts++;
      this.counts.attempts++;
      this.adapters.metrics?.attempt();
      if (result.kind === 'answer') {
        status = result.status;
        errorType = result.errorType;
      }
      const verdict = judgeAttempt(result);
      lastCause = verdict.cause;
      if (verdict.uncertain) uncertain = true;
      if (verdict.retry) throw new RetryableAttempt(verdict);
      final = verdict;
      return verdict;
    };
    try {
      let verdict: AttemptVerdict;
      try {
        // Most callbacks are answered by their first attempt: it runs without the retry machinery.
        verdict = await attempt();
      } catch (first) {
        if (!(first instanceof RetryableAttempt)) throw first;
        // p-retry takes the first attempt's failure as its own first attempt (handed
        // over, not repeated), so the backoff and the retry budget stay p-retry's
        // from the first failure on, as when it ran the first attempt itself.
        let handedOver = false;
        verdict = await pRetry(
          async () => {
            if (handedOver) return attempt();
            handedOver = true;
            throw first;
          },
          {
            ...retryOptions(this.settings.backoff, item.receivedMs, this.now()),
            signal: this.retryStop.signal,
            shouldRetry: ({ error }) => error instanceof RetryableAttempt,
          },
        );
      }
      return answer(verdict, verdict.delivered ? 'delivered' : 'rejected');
    } catch (error) {
      // p-retry rejects on abort even when the attempt under way got its answer.
      if (final) return answer(final, final.delivered ? 'delivered' : 'rejected');
      if (error instanceof RetryableAttempt && !this.retryStop.signal.aborted) return answer(error.verdict, 'gave-up');
      throw error;
    } finally {
      this.sendWindow.forget(item);
    }
  }

  private wake: (() => void) | undefined;

  /** Waits for the next answer or the stop signal (or `ms`, when given). */
  private sleep(ms?: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = ms === undefined ? undefined : setTimeout(() => this.wakeUp(), ms);
      this.wake = () => {
        if (timer) clearTimeout(timer);
        resolve();
      };
    });
  }

  private wakeUp(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  private maybeCheckpoint(): void {
    if (this.checkpointing) return;
    const age = this.now() - this.lastCheckpointMs;
    if (!this.checkpointDirty && age < (this.settings.checkpointHeartbeatMs ?? 5000)) return;
    if (age < (this.settings.checkpointEveryMs ?? 200)) return;
    this.checkpointing = this.writeCheckpoint().finally(() => (this.checkpointing = undefined));
  }

  /** Ack lines first, then the checkpoint that moves past them. */
  private async writeCheckpoint(): Promise<void> {
    this.checkpointDirty = false;
    const paths = this.adapters.tail.paths();
    for (const { fileId } of this.watermark.entries()) if (!paths.has(fileId)) this.watermark.forget(fileId);
    const files = this.watermark.entries().map(({ fileId, offset }) => ({ id: fileId, path: paths.get(fileId) ?? '', offset }));
    await this.adapters.ackLog.flush();
    await this.adapters.saveCheckpoint(files);
    this.lastCheckpointMs = this.now();
  }
}

