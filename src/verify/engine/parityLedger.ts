/**
 * The parity comparator's rules (PRODUCT.md, "The join key and the parity
 * contract"), as a pure incremental ledger: callbacks and messages go in, in any
 * order; `advance(now)` judges what is older than the grace period; `report()`
 * returns plain data. No file, no AWS, no metrics: adapters feed it.
 *
 * Memory is bounded by what is still undecided: a judged callback or message
 * leaves only its key behind, and only for `dedupeWindowMs` after it was judged
 * (in data time: the `now` given to `advance`), to recognise late duplicates.
 *
 * Judging as time passes gives the same judgement as reading every callback, then
 * every message, and judging once at the end, unless an item arrives after its
 * counterpart was already judged. With `orderCheck` the ledger notices every such
 * arrival (`orderConflicts`), so a reader that streams inputs can fall back to
 * the all-at-once order instead of reporting a different judgement. See
 * docs/benchmarks.md ("Reading in time order") for the argument.
 */
import { KeyFingerprints } from './keyFingerprints.js';
import { keyFunctions, type KeyFunctions, type MatchMode } from './matchKey.js';
import type { CallbackRecord, QueueMessage } from './records.js';
import { probeAttribute } from '../../wire/contract.js';

export interface LedgerOptions {
  match: MatchMode;
  graceMs: number;
  /** How long a matched key is remembered to count late duplicates (default: 10 x grace, at least 10 min). */
  dedupeWindowMs?: number;
  since?: number;
  until?: number;
  /** Cap on listed ids (missing, unexpected, mismatches); counts are never capped. */
  listLimit?: number;
  /**
   * Count arrivals that judging as time passes may have judged differently from
   * the all-at-once order (`orderConflicts`). Costs a 64-bit fingerprint (16 bytes
   * at most) per key judged missing or forgotten, for the ledger's lifetime: for
   * one-shot runs, not for `--watch`.
   */
  orderCheck?: boolean;
}

/** Why an arrival may have been judged differently from the all-at-once order. */
export type OrderConflict =
  | 'callback-repeated' // a second callback with a key already seen: its pairing depends on file order
  | 'callback-after-judged' // a callback whose key was already matched, judged unexpected, missing or forgotten
  | 'message-after-missing'; // a message whose callback was already judged missing, or whose key was forgotten

export interface MissingCallback {
  requestId: string;
  timeMs: number;
  source: { file: string; line: number };
}

export interface BodyMismatch {
  requestId: string;
  messageId: string;
  /** First differing byte offset (UTF-8) between the callback body and the message body. */
  offset: number;
  callbackBytes: number;
  messageBytes: number;
}

export interface ParityCounts {
  /** Callbacks in the window that API Gateway was sent (the ones judged). */
  callbacks: number;
  matched: number;
  missing: number;
  pending: number;
  unexpected: number;
  duplicates: number;
  bodyMismatches: number;
  /** Matched on the key, body not compared: nginx did not capture it (spilled to a temp file). Never a mismatch. */
  bodyNotChecked: number;
  /** Rejected by nginx before the mirror could run (e.g. 413): no mirror to match. */
  nginxRejected: number;
  /** Not sampled, or logged in a phase that sends nothing to API Gateway. */
  notMirrored: number;
  /** No join key: no request id, or the body lacks a match field. */
  unjoinable: number;
  probes: number;
  outOfWindow: number;
}

export interface LagSummary {
  count: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  max: number | null;
}

export interface ParityJudgement {
  counts: ParityCounts;
  /** matched / (matched + missing); null when nothing was judged. */
  parity: number | null;
  missing: MissingCallback[];
  mismatches: BodyMismatch[];
  unexpected: { messageId: string; sentTimestampMs: number }[];
  lagMs: LagSummary;
}

interface Pending {
  record: CallbackRecord;
  key: string;
}

const lagSampleLimit = 200_000;

export class ParityLedger {
  private readonly keys: KeyFunctions;
  private readonly options: Required<Pick<LedgerOptions, 'graceMs' | 'dedupeWindowMs' | 'listLimit'>> & LedgerOptions;
  private readonly pending = new Map<string, Pending[]>();
  private readonly orphanMessages = new Map<string, QueueMessage[]>();
  private readonly judgedKeys = new Map<string, number>();
  /** orderCheck only: keys judged missing, and keys forgotten from judgedKeys. */
  private readonly letGo: KeyFingerprints | undefined;
  private orphanCount = 0;
  private conflicts = 0;
  private firstConflict: OrderConflict | undefined;
  private readonly counts: ParityCounts = {
    callbacks: 0, matched: 0, missing: 0, pending: 0, unexpected: 0, duplicates: 0, bodyMismatches: 0, bodyNotChecked: 0,
    nginxRejected: 0, notMirrored: 0, unjoinable: 0, probes: 0, outOfWindow: 0,
  };
  private readonly missingList: MissingCallback[] = [];
  private readonly mismatchList: BodyMismatch[] = [];
  private readonly unexpectedList: { messageId: string; sentTimestampMs: number }[] = [];
  private readonly lags: number[] = [];
  private lagsSeen = 0;
  private lagMax: number | null = null;
  private rng = 0x2545f491;
  /** Listeners for the metrics adapter; the ledger itself knows nothing of metrics. */
  onMatched?: (lagMs: number) => void;
  /**
   * Every callback judged missing, in the order judged (by `advance`). The report
   * lists only the first `listLimit`; a long watch keeps the recent ones from here.
   */
  onMissing?: (missing: MissingCallback) => void;
  /** Every match whose bodies differ, with both sides, so a reporter can show the bodies of those it lists. */
  onBodyMismatch?: (record: CallbackRecord, message: QueueMessage) => void;

  constructor(options: LedgerOptions) {
    this.keys = keyFunctions(options.match);
    this.options = {
      ...options,
      dedupeWindowMs: options.dedupeWindowMs ?? Math.max(options.graceMs * 10, 600_000),
      listLimit: options.listLimit ?? 1000,
    };
    this.letGo = options.orderCheck ? new KeyFingerprints() : undefined;
  }

  /** Arrivals that may have been judged differently from the all-at-once order (orderCheck only; else 0). */
  get orderConflicts(): number {
    return this.conflicts;
  }

  /** The kind of the first such arrival, to say why a reader fell back. */
  get firstOrderConflict(): OrderConflict | undefined {
    return this.firstConflict;
  }

  /** Keys kept after judging: in the dedupe window, plus (orderCheck) fingerprints of those let go. */
  get rememberedKeys(): { recent: number; fingerprints: number } {
    return { recent: this.judgedKeys.size, fingerprints: this.letGo?.size ?? 0 };
  }

  private conflict(kind: OrderConflict): void {
    this.conflicts++;
    this.firstConflict ??= kind;
  }

  addCallback(record: CallbackRecord): void {
    const skipped = notJudged(record, this.options);
    if (skipped) {
      this.counts[skipped]++;
      return;
    }
    const key = this.keys.callbackKey(record);
    if (key === undefined) {
      this.counts.unjoinable++;
      return;
    }
    this.counts.callbacks++;
    const list = this.pending.get(key);
    if (this.letGo) {
      // All at once, every callback comes before every message: a callback whose
      // key was already judged, or a second one, may have been paired otherwise.
      if (list) this.conflict('callback-repeated');
      else if (this.judgedKeys.has(key) || this.letGo.has(key)) this.conflict('callback-after-judged');
    }
    const waiting = this.orphanMessages.get(key);
    const message = waiting?.shift();
    if (message) {
      this.orphanCount--;
      if (waiting!.length === 0) this.orphanMessages.delete(key);
      this.match(record, key, message);
      return;
    }
    if (list) list.push({ record, key });
    else this.pending.set(key, [{ record, key }]);
    this.counts.pending++;
  }

  addMessage(message: QueueMessage): void {
    if (message.attributes[probeAttribute] !== undefined) {
      this.counts.probes++;
      return;
    }
    const key = this.keys.messageKey(message);
    if (key === undefined) {
      this.recordUnexpected(message);
      return;
    }
    const waiting = this.pending.get(key);
    const first = waiting?.shift();
    if (first) {
      if (waiting!.length === 0) this.pending.delete(key);
      this.counts.pending--;
      this.match(first.record, key, message);
      return;
    }
    if (this.judgedKeys.has(key)) {
      this.counts.duplicates++;
      return;
    }
    const orphans = this.orphanMessages.get(key);
    if (orphans) {
      // A second copy of a message whose callback we have not read yet.
      this.counts.duplicates++;
      return;
    }
    // Its callback was judged missing (all at once, this message would have matched
    // it), or its key was forgotten (it may be a late copy of a matched one).
    if (this.letGo?.has(key)) this.conflict('message-after-missing');
    this.orphanMessages.set(key, [message]);
    this.orphanCount++;
  }

  /**
   * Judges everything older than the grace period at `nowMs`: unmatched callbacks
   * become missing, messages with no callback become unexpected, and matched keys
   * past the dedupe window are forgotten.
   */
  advance(nowMs: number): void {
    const cutoff = nowMs - this.options.graceMs;
    for (const [key, list] of this.pending) {
      while (list.length > 0 && list[0]!.record.timeMs < cutoff) {
        const { record } = list.shift()!;
        this.counts.pending--;
        this.counts.missing++;
        this.letGo?.add(key);
        const missing: MissingCallback = { requestId: record.requestId, timeMs: record.timeMs, source: record.source };
        if (this.missingList.length < this.options.listLimit) this.missingList.push(missing);
        this.onMissing?.(missing);
      }
      if (list.length === 0) this.pending.delete(key);
    }
    for (const [key, list] of this.orphanMessages) {
      while (list.length > 0 && list[0]!.sentTimestampMs < cutoff) {
        const message = list.shift()!;
        this.orphanCount--;
        this.recordUnexpected(message);
        // Later copies are duplicates, as they are when everything is judged at once.
        this.judgedKeys.set(key, message.sentTimestampMs);
      }
      if (list.length === 0) this.orphanMessages.delete(key);
    }
    const forgetBefore = nowMs - this.options.dedupeWindowMs;
    for (const [key, judgedAt] of this.judgedKeys) {
      if (judgedAt < forgetBefore) {
        this.judgedKeys.delete(key);
        this.letGo?.add(key);
      }
    }
  }

  /** Undecided items held in memory: what bounds the ledger's size. */
  get undecided(): number {
    return this.counts.pending + this.orphanCount;
  }

  judgement(): ParityJudgement {
    const judged = this.counts.matched + this.counts.missing;
    return {
      counts: { ...this.counts },
      parity: judged === 0 ? null : this.counts.matched / judged,
      missing: [...this.missingList],
      mismatches: [...this.mismatchList],
      unexpected: [...this.unexpectedList],
      lagMs: this.lagSummary(),
    };
  }

  private match(record: CallbackRecord, key: string, message: QueueMessage): void {
    this.counts.matched++;
    this.judgedKeys.set(key, Math.max(record.timeMs, message.sentTimestampMs));
    const lag = message.sentTimestampMs - record.timeMs;
    this.recordLag(lag);
    this.onMatched?.(lag);
    if (record.bodyCaptured === false) this.counts.bodyNotChecked++;
    if (record.body !== undefined && record.body !== message.body) {
      this.counts.bodyMismatches++;
      this.onBodyMismatch?.(record, message);
      if (this.mismatchList.length < this.options.listLimit) {
        const a = Buffer.from(record.body, 'utf8');
        const b = Buffer.from(message.body, 'utf8');
        this.mismatchList.push({
          requestId: record.requestId,
          messageId: message.messageId,
          offset: firstDifference(a, b),
          callbackBytes: a.length,
          messageBytes: b.length,
        });
      }
    }
  }

  private recordUnexpected(message: QueueMessage): void {
    const { since, until, graceMs } = this.options;
    if ((since !== undefined && message.sentTimestampMs < since) || (until !== undefined && message.sentTimestampMs > until + graceMs)) {
      this.counts.outOfWindow++;
      return;
    }
    this.counts.unexpected++;
    if (this.unexpectedList.length < this.options.listLimit) {
      this.unexpectedList.push({ messageId: message.messageId, sentTimestampMs: message.sentTimestampMs });
    }
  }

  /** Keeps every lag up to a bound, then a uniform reservoir sample (deterministic). */
  private recordLag(lag: number): void {
    this.lagsSeen++;
    this.lagMax = this.lagMax === null ? lag : Math.max(this.lagMax, lag);
    if (this.lags.length < lagSampleLimit) {
      this.lags.push(lag);
      return;
    }
    this.rng = (Math.imul(this.rng, 1_103_515_245) + 12_345) >>> 0;
    const slot = this.rng % this.lagsSeen;
    if (slot < lagSampleLimit) this.lags[slot] = lag;
  }

  private lagSummary(): LagSummary {
    const sorted = Float64Array.from(this.lags).sort();
    const at = (q: number) => (sorted.length === 0 ? null : sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!);
    return { count: this.lagsSeen, p50: at(0.5), p95: at(0.95), p99: at(0.99), max: this.lagMax };
  }
}

/**
 * nginx answered an error without contacting any upstream: the request was
 * rejected before the precontent phase, so no mirror subrequest was created
 * (FINDINGS.md: 413, access, limit_req).
 */
function isNginxRejected(record: Pick<CallbackRecord, 'status' | 'upstreamStatus'>): boolean {
  return record.status >= 400 && record.upstreamStatus === '';
}

/**
 * Why a callback is counted but not judged, or undefined when it is judged: outside
 * the window, refused by nginx before any upstream (no mirror was made), or never
 * sent to API Gateway (sampled out, or a phase that sends nothing). Every ledger
 * (parity, ack, streaming ack) sorts callbacks with this one rule.
 */
export function notJudged(
  record: Pick<CallbackRecord, 'timeMs' | 'status' | 'upstreamStatus' | 'sentToGateway'>,
  window: { since?: number; until?: number },
): 'outOfWindow' | 'nginxRejected' | 'notMirrored' | undefined {
  const { since, until } = window;
  if ((since !== undefined && record.timeMs < since) || (until !== undefined && record.timeMs > until)) return 'outOfWindow';
  if (isNginxRejected(record)) return 'nginxRejected';
  if (!record.sentToGateway) return 'notMirrored';
  return undefined;
}

function firstDifference(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return n;
}
