/**
 * Pure: parity judged from what API Gateway answered, never from the queue
 * (`verify --mode ack`). Each callback nginx sent to API Gateway is delivered (a 2xx),
 * missing with its cause (a final error, nothing sent, or no answer logged within the
 * grace), or unknown (sent, then a timeout or a reset: it may have landed). Unknowns
 * never count as delivered; when they could change the verdict, it is inconclusive.
 */
import { applyGate, formatRatio, type GateOptions, type GateResult } from './gate.js';
import { notJudged, type MissingCallback, type ParityCounts, type ParityJudgement } from './parityLedger.js';
import { betterAnswer, causeGroup, type GatewayAnswer, type MissingCause } from './gatewayAnswers.js';
import type { CallbackRecord } from './records.js';

export interface MissingWithCause extends MissingCallback {
  cause: MissingCause;
  status: number | null;
  errorType: string;
}

export interface AckJudgement extends ParityJudgement {
  missing: MissingWithCause[];
  /** Sent, then no HTTP answer: neither delivered nor missing. */
  unknown: MissingWithCause[];
  unknownCount: number;
  /** Missing and unknown callbacks grouped by cause, with API Gateway's status and error type ("http-415 (415 UnsupportedMediaTypeException)"). */
  byCause: Record<string, number>;
  /** The bounded label of each: what metrics carry. */
  byCauseLabel: Partial<Record<MissingCause, number>>;
}

export interface AckLedgerOptions {
  graceMs: number;
  since?: number;
  until?: number;
  listLimit?: number;
}

export class AckLedger {
  private readonly callbacks: CallbackRecord[] = [];
  private readonly answers = new Map<string, GatewayAnswer>();
  private readonly counts: ParityCounts = {
    callbacks: 0, matched: 0, missing: 0, pending: 0, unexpected: 0, duplicates: 0, bodyMismatches: 0, bodyNotChecked: 0,
    nginxRejected: 0, notMirrored: 0, unjoinable: 0, probes: 0, outOfWindow: 0,
  };

  constructor(private readonly options: AckLedgerOptions) {}

  addCallback(record: CallbackRecord): void {
    const skipped = notJudged(record, this.options);
    if (skipped) this.counts[skipped]++;
    else this.callbacks.push(record);
  }

  addAnswer(answer: GatewayAnswer): void {
    this.answers.set(answer.requestId, betterAnswer(this.answers.get(answer.requestId), answer));
  }

  judge(nowMs: number): AckJudgement {
    const counts = { ...this.counts };
    const listLimit = this.options.listLimit ?? 1000;
    const missing: MissingWithCause[] = [];
    const unknown: MissingWithCause[] = [];
    const byCause: Record<string, number> = {};
    const byCauseLabel: Partial<Record<MissingCause, number>> = {};
    let unknownCount = 0;
    const note = (answer: Pick<GatewayAnswer, 'cause' | 'status' | 'errorType'> & { cause: MissingCause }) => {
      const group = causeGroup(answer);
      byCause[group] = (byCause[group] ?? 0) + 1;
      byCauseLabel[answer.cause] = (byCauseLabel[answer.cause] ?? 0) + 1;
    };
    for (const record of this.callbacks) {
      const answer = this.answers.get(record.requestId);
      if (answer?.outcome === 'not-sent') {
        counts.notMirrored++;
        continue;
      }
      counts.callbacks++;
      const base = { requestId: record.requestId, timeMs: record.timeMs, source: record.source };
      if (answer?.outcome === 'delivered') {
        counts.matched++;
        continue;
      }
      if (!answer && record.timeMs >= nowMs - this.options.graceMs) {
        counts.pending++;
        continue;
      }
      const entry: MissingWithCause = answer
        ? { ...base, cause: answer.cause === 'ok' ? 'other' : answer.cause, status: answer.status, errorType: answer.errorType }
        : { ...base, cause: 'no-answer', status: null, errorType: '' };
      note(entry);
      if (answer?.outcome === 'unknown') {
        unknownCount++;
        if (unknown.length < listLimit) unknown.push(entry);
      } else {
        counts.missing++;
        if (missing.length < listLimit) missing.push(entry);
      }
    }
    const judged = counts.matched + counts.missing;
    return {
      counts,
      parity: judged === 0 ? null : counts.matched / judged,
      missing,
      mismatches: [],
      unexpected: [],
      lagMs: { count: 0, p50: null, p95: null, p99: null, max: null },
      unknown,
      unknownCount,
      byCause,
      byCauseLabel,
    };
  }
}

/**
 * The gate over an ack judgement: unknowns counted once as missing and once as
 * delivered; when the two verdicts differ, inconclusive with the reason.
 */
export function applyAckGate(judgement: AckJudgement, options: GateOptions): GateResult {
  const u = judgement.unknownCount;
  const plain = applyGate(judgement, options);
  if (u === 0) return plain;
  const { matched, missing } = judgement.counts;
  const as = (m: number, x: number) =>
    applyGate({ ...judgement, counts: { ...judgement.counts, matched: m, missing: x }, parity: m + x === 0 ? null : m / (m + x) }, options);
  const worst = as(matched, missing + u);
  const best = as(matched + u, missing);
  if (worst.verdict === best.verdict) return { ...worst, judged: plain.judged, reasons: [...worst.reasons, `${u} callback(s) unknown (timeout or reset after sending): counted as missing, the verdict is the same either way`] };
  return {
    ...plain,
    verdict: 'inconclusive',
    reasons: [
      `${u} callback(s) were sent and got no answer (timeout or reset): they may have landed; parity is between ${formatRatio(worst.judged === 0 ? 0 : matched / worst.judged)} and ${formatRatio(best.judged === 0 ? 0 : (matched + u) / best.judged)}, on both sides of the gate ${formatRatio(options.threshold)}`,
    ],
  };
}
