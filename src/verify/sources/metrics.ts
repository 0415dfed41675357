/**
 * Prometheus metrics for `mirror verify --watch`, with prom-client, in a registry
 * of their own (created by the command, never at import). Counters follow the
 * ledger's counts; parity is a gauge over a sliding window; delivery lag is a
 * histogram.
 *
 * No label ever carries a body value or a request id: the only labels are the
 * receive-error kind (a fixed list), the phase name (the fixed list of phases) and
 * the cause of a missing callback (the fixed list in engine/gatewayAnswers.ts).
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { phases } from '../../config/phases.js';
import type { ParityCounts } from '../engine/parityLedger.js';
import { missingCauses, type MissingCause } from '../engine/gatewayAnswers.js';

const counterNames = {
  callbacks: ['mirror_callbacks_total', 'Callbacks sent to API Gateway that the comparator took in (matched, missing or pending)'],
  matched: ['mirror_matched_total', 'Callbacks whose SQS message arrived'],
  missing: ['mirror_missing_total', 'Callbacks with no SQS message after the grace period'],
  unexpected: ['mirror_unexpected_total', 'SQS messages with no callback after the grace period'],
  duplicates: ['mirror_duplicates_total', 'Extra copies of a message (SQS is at-least-once)'],
  bodyMismatches: ['mirror_body_mismatches_total', 'Matched messages whose body differs from the callback'],
  bodyNotChecked: ['mirror_body_not_checked_total', 'Matched messages whose body was not compared: nginx did not capture the callback body'],
  nginxRejected: ['mirror_nginx_rejected_total', 'Callbacks nginx rejected before the mirror could run'],
} as const satisfies Partial<Record<keyof ParityCounts, readonly [string, string]>>;

/**
 * Receive-error kinds. A fixed list keeps the label's cardinality fixed whatever
 * the SDK throws, and lets every kind be exported as 0 before it first happens
 * (so `rate()` sees the first error, and a dashboard query has data from the start).
 */
export const receiveErrorKinds = ['throttled', 'auth', 'queue_missing', 'network', 'timeout', 'server', 'other'] as const;
export type ReceiveErrorKind = (typeof receiveErrorKinds)[number];

/**
 * The kind of an SQS receive error from its name (and message), as the AWS SDK v3
 * reports them: service exceptions by their error code
 * (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_ReceiveMessage.html#API_ReceiveMessage_Errors,
 * CommonErrors), Node's socket errors by their code.
 */
export function receiveErrorKind(name: string): ReceiveErrorKind {
  if (/Throttl|RequestLimitExceeded|OverLimit|TooManyRequests|SlowDown/i.test(name)) return 'throttled';
  if (/AccessDenied|InvalidClientTokenId|SignatureDoesNotMatch|UnrecognizedClient|ExpiredToken|Credential|InvalidSecurity|KmsAccessDenied/i.test(name)) return 'auth';
  if (/QueueDoesNotExist|NonExistentQueue|QueueDeletedRecently/i.test(name)) return 'queue_missing';
  if (/Timeout|TimedOut/i.test(name)) return 'timeout';
  if (/ECONN|ENOTFOUND|EAI_AGAIN|EPIPE|ENETUNREACH|EHOSTUNREACH|socket|Network/i.test(name)) return 'network';
  if (/InternalError|InternalFailure|ServiceUnavailable|ServerError|\b5\d\d\b/i.test(name)) return 'server';
  return 'other';
}

export class ParityMetrics {
  readonly registry = new Registry();
  private readonly counters = new Map<keyof typeof counterNames, Counter>();
  private readonly last: Partial<Record<keyof ParityCounts, number>> = {};
  private readonly unparseable: Counter;
  private readonly receiveErrors: Counter<'kind'>;
  private readonly parity: Gauge;
  private readonly undecided: Gauge;
  private readonly phase: Gauge<'phase'>;
  private readonly lag: Histogram;
  private readonly missingByCause: Counter<'cause'>;
  private readonly unknown: Counter;
  private readonly lastCauses: Partial<Record<MissingCause, number>> = {};
  private lastUnknown = 0;
  /**
   * Cumulative (matched, missing) snapshots, one per update, oldest first; the
   * window's parity is the change since the newest snapshot at or before its start.
   * Seeded with zeros at construction, so the first window counts from the start.
   */
  private readonly window: { at: number; matched: number; missing: number }[];
  private readonly windowMs: number;

  constructor(options: { windowMs?: number; now?: number } = {}) {
    this.windowMs = options.windowMs ?? 5 * 60_000;
    this.window = [{ at: options.now ?? Date.now(), matched: 0, missing: 0 }];
    for (const [key, [name, help]] of Object.entries(counterNames) as [keyof typeof counterNames, readonly [string, string]][]) {
      this.counters.set(key, new Counter({ name, help, registers: [this.registry] }));
    }
    this.unparseable = new Counter({ name: 'mirror_unparseable_lines_total', help: 'Parity log lines that did not parse', registers: [this.registry] });
    this.receiveErrors = new Counter({ name: 'mirror_sqs_receive_errors_total', help: 'SQS receive errors by kind', labelNames: ['kind'], registers: [this.registry] });
    for (const kind of receiveErrorKinds) this.receiveErrors.inc({ kind }, 0);
    this.parity = new Gauge({
      name: 'mirror_parity_ratio',
      help: 'matched / (matched + missing) over the sliding window; NaN while nothing was judged in it',
      registers: [this.registry],
    });
    // Not 0 (prom-client's default): "no callback judged" is not "nothing arrived".
    this.parity.set(Number.NaN);
    this.undecided = new Gauge({
      name: 'mirror_undecided_items',
      help: 'Callbacks and messages held in memory until they match or their grace passes',
      registers: [this.registry],
    });
    this.phase = new Gauge({ name: 'mirror_phase', help: 'The configured phase: 1 for the active one, 0 for the others', labelNames: ['phase'], registers: [this.registry] });
    this.lag = new Histogram({
      name: 'mirror_delivery_lag_seconds',
      help: 'SQS SentTimestamp minus the nginx time of the callback',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300],
      registers: [this.registry],
    });
    // Every cause exported as 0 from the start, like the receive errors: rate() sees the first one.
    this.missingByCause = new Counter({
      name: 'mirror_missing_by_cause_total',
      help: "Missing or unknown callbacks by cause (ack mode: API Gateway's status, a timeout, a refused connection, a DNS failure, no answer)",
      labelNames: ['cause'],
      registers: [this.registry],
    });
    for (const cause of missingCauses) this.missingByCause.inc({ cause }, 0);
    this.unknown = new Counter({
      name: 'mirror_unknown_total',
      help: 'Callbacks sent to API Gateway that got no answer (timeout or reset): they may have landed, never counted as delivered',
      registers: [this.registry],
    });
  }

  /** Ack mode: brings the cause counters and the unknown counter up to the ledger's cumulative counts. */
  updateCauses(byCauseLabel: Partial<Record<MissingCause, number>>, unknown: number): void {
    for (const cause of missingCauses) {
      const delta = (byCauseLabel[cause] ?? 0) - (this.lastCauses[cause] ?? 0);
      if (delta > 0) this.missingByCause.inc({ cause }, delta);
      this.lastCauses[cause] = byCauseLabel[cause] ?? 0;
    }
    if (unknown > this.lastUnknown) this.unknown.inc(unknown - this.lastUnknown);
    this.lastUnknown = unknown;
  }

  setPhase(active: string): void {
    for (const phase of phases) this.phase.set({ phase }, phase === active ? 1 : 0);
  }

  /** A matched callback's delivery lag; negative (clock skew between hosts) counts as 0. */
  observeLag(ms: number): void {
    this.lag.observe(Math.max(ms, 0) / 1000);
  }

  unparseableLine(): void {
    this.unparseable.inc();
  }

  receiveError(name: string): void {
    this.receiveErrors.inc({ kind: receiveErrorKind(name) });
  }

  /** Brings the counters up to the ledger's counts and moves the parity window. */
  update(counts: ParityCounts, undecided: number, now: number): void {
    for (const [key, counter] of this.counters) {
      const delta = counts[key] - (this.last[key] ?? 0);
      if (delta > 0) counter.inc(delta);
      this.last[key] = counts[key];
    }
    this.undecided.set(undecided);
    this.window.push({ at: now, matched: counts.matched, missing: counts.missing });
    // Keep one snapshot at or before the window's start, as the base; drop older ones.
    while (this.window.length > 2 && this.window[1]!.at <= now - this.windowMs) this.window.shift();
    const base = this.window[0]!;
    const matched = counts.matched - base.matched;
    const judged = matched + counts.missing - base.missing;
    this.parity.set(judged > 0 ? matched / judged : Number.NaN);
  }

  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
