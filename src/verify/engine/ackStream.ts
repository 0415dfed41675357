/**
 * Pure: the ack judgement of `verify --watch --mode ack`, fed line by line from the
 * parity logs and the answers logs, in whatever order their files are read. The
 * one-shot AckLedger holds every callback until it judges once; a watch runs for
 * weeks, so this one decides each callback as soon as it can and forgets it:
 *
 * - a 2xx answer decides at once (delivered wins over every other answer, as in
 *   betterAnswer: a shipper that restarted may log an uncertain attempt first);
 * - anything else waits for the callback's grace to pass, then the best answer seen
 *   decides it: missing with its cause, unknown (timeout or reset after sending), or
 *   missing with cause "no-answer" when none came;
 * - an answer whose callback has not been read yet waits one grace (wall clock) for
 *   it, then is dropped: its callback was before the watch's window.
 *
 * Memory is bounded by what arrives within one grace period.
 */
import { notJudged, type ParityCounts, type ParityJudgement } from './parityLedger.js';
import { betterAnswer, causeGroup, missingCauses, type GatewayAnswer, type MissingCause } from './gatewayAnswers.js';
import type { MissingWithCause } from './ackLedger.js';
import type { CallbackRecord } from './records.js';

export interface AckStreamOptions {
  graceMs: number;
  since?: number;
  until?: number;
}

export interface AckStreamJudgement extends ParityJudgement {
  unknownCount: number;
  /** Missing and unknown callbacks by their bounded cause label, every label present (0 when none). */
  byCauseLabel: Record<MissingCause, number>;
  /** The same by readable group ("http-415 (415 UnsupportedMediaTypeException)"); bounded by the labels times the statuses seen. */
  byCause: Record<string, number>;
}

export class AckStream {
  private readonly waiting = new Map<string, CallbackRecord>();
  private readonly answers = new Map<string, GatewayAnswer>();
  /** When an answer with no callback yet was first seen (wall clock), to drop it after one grace. */
  private readonly orphanSince = new Map<string, number>();
  private readonly counts: ParityCounts = {
    callbacks: 0, matched: 0, missing: 0, pending: 0, unexpected: 0, duplicates: 0, bodyMismatches: 0, bodyNotChecked: 0,
    nginxRejected: 0, notMirrored: 0, unjoinable: 0, probes: 0, outOfWindow: 0,
  };
  private unknownCount = 0;
  private readonly byCauseLabel = Object.fromEntries(missingCauses.map((c) => [c, 0])) as Record<MissingCause, number>;
  private readonly byCause: Record<string, number> = {};
  /** Called once for each callback judged missing or unknown, with its cause. */
  onMissing?: (missing: MissingWithCause, unknown: boolean) => void;

  constructor(private readonly options: AckStreamOptions) {}

  addCallback(record: CallbackRecord, nowMs: number): void {
    const skipped = notJudged(record, this.options);
    if (skipped) {
      this.counts[skipped]++;
      return;
    }
    if (this.waiting.has(record.requestId)) return; // the same line read twice (a copytruncate re-read)
    this.orphanSince.delete(record.requestId);
    this.waiting.set(record.requestId, record);
    this.settle(record.requestId, nowMs);
  }

  addAnswer(answer: GatewayAnswer, nowMs: number): void {
    const best = betterAnswer(this.answers.get(answer.requestId), answer);
    this.answers.set(answer.requestId, best);
    if (this.waiting.has(answer.requestId)) this.settle(answer.requestId, nowMs);
    else if (!this.orphanSince.has(answer.requestId)) this.orphanSince.set(answer.requestId, nowMs);
  }

  /** Decides every callback whose grace has passed, and drops answers that waited a grace for a callback. */
  advance(nowMs: number): void {
    for (const [id, record] of this.waiting) {
      // Insertion order is read order, close to time order; a late one is caught at a later advance.
      if (record.timeMs < nowMs - this.options.graceMs) this.settle(id, nowMs, true);
    }
    for (const [id, seen] of this.orphanSince) {
      if (seen >= nowMs - this.options.graceMs) break;
      this.orphanSince.delete(id);
      this.answers.delete(id);
    }
  }

  /** Callbacks and answers held in memory, waiting for each other or for their grace. */
  get undecided(): number {
    return this.waiting.size + this.orphanSince.size;
  }

  judgement(): AckStreamJudgement {
    const counts = { ...this.counts, pending: this.waiting.size };
    const judged = counts.matched + counts.missing;
    return {
      counts,
      parity: judged === 0 ? null : counts.matched / judged,
      missing: [],
      mismatches: [],
      unexpected: [],
      lagMs: { count: 0, p50: null, p95: null, p99: null, max: null },
      unknownCount: this.unknownCount,
      byCauseLabel: { ...this.byCauseLabel },
      byCause: { ...this.byCause },
    };
  }

  private settle(id: string, nowMs: number, graceOver = false): void {
    const record = this.waiting.get(id)!;
    const answer = this.answers.get(id);
    if (answer?.outcome === 'not-sent') {
      this.forget(id);
      this.counts.notMirrored++;
      return;
    }
    if (answer?.outcome === 'delivered') {
      this.forget(id);
      this.counts.callbacks++;
      this.counts.matched++;
      return;
    }
    if (!graceOver && record.timeMs >= nowMs - this.options.graceMs) return;
    this.forget(id);
    this.counts.callbacks++;
    const entry: MissingWithCause = answer
      ? { requestId: id, timeMs: record.timeMs, source: record.source, cause: answer.cause === 'ok' ? 'other' : answer.cause, status: answer.status, errorType: answer.errorType }
      : { requestId: id, timeMs: record.timeMs, source: record.source, cause: 'no-answer', status: null, errorType: '' };
    this.byCauseLabel[entry.cause]++;
    const group = causeGroup(entry);
    this.byCause[group] = (this.byCause[group] ?? 0) + 1;
    const unknown = answer?.outcome === 'unknown';
    if (unknown) this.unknownCount++;
    else this.counts.missing++;
    this.onMissing?.(entry, unknown);
  }

  private forget(id: string): void {
    this.waiting.delete(id);
    this.answers.delete(id);
    this.orphanSince.delete(id);
  }
}
