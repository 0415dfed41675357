/**
 * Pure: what the queue held out of sight during a verification, and what that does
 * to the gate. SQS has no peek: a message another reader received (a consumer mid-
 * processing, an earlier `verify --mode peek`, a second watch) stays invisible for
 * its visibility timeout, and a delayed message is not yet receivable. Such a
 * message may be the one a "missing" callback is waiting for, so missing callbacks
 * that in-flight messages could explain make the verdict inconclusive (exit 4),
 * never a failure, unless even counting every in-flight message as a match the
 * parity stays under the gate. FINDINGS.md ("SQS has no peek").
 */
import type { GateResult } from './gate.js';
import { formatRatio } from './gate.js';
import type { ParityCounts } from './parityLedger.js';

/** `GetQueueAttributes` counts, read before and after the run. */
export interface QueueCounts {
  visible: number;
  /** `ApproximateNumberOfMessagesNotVisible`: received by someone, not yet deleted. */
  notVisible: number;
  /** `ApproximateNumberOfMessagesDelayed`. */
  delayed: number;
}

export interface InFlight {
  before: QueueCounts;
  after: QueueCounts;
  /** Messages this run itself holds invisible at the end (peek: every message it received). */
  heldByThisRun: number;
  /**
   * The most messages other readers (or delays) can have kept from this run: the
   * larger of the two readings, the run's own peeked messages taken out of the
   * second. "Approximate" counts (SQS's word): a bound, not a census.
   */
  othersInFlight: number;
}

export function inFlightFrom(before: QueueCounts, after: QueueCounts, heldByThisRun: number): InFlight {
  const othersInFlight = Math.max(before.notVisible + before.delayed, Math.max(0, after.notVisible - heldByThisRun) + after.delayed);
  return { before, after, heldByThisRun, othersInFlight };
}

/**
 * The gate, knowing what was in flight. A failure on parity alone becomes
 * inconclusive when the in-flight messages could be the missing callbacks' and
 * would lift parity to the gate; a body mismatch still fails (a message was read).
 */
export function gateWithInFlight(gate: GateResult, counts: Pick<ParityCounts, 'matched' | 'missing' | 'bodyMismatches'>, inFlight: InFlight): GateResult {
  const n = inFlight.othersInFlight;
  if (gate.verdict !== 'fail' || counts.missing === 0 || n === 0 || counts.bodyMismatches > 0) return gate;
  const judged = counts.matched + counts.missing;
  const bestCase = (counts.matched + Math.min(counts.missing, n)) / judged;
  if (bestCase < gate.threshold) {
    return {
      ...gate,
      reasons: [
        ...gate.reasons,
        `${counts.missing} missing exceeds what ${n} in-flight message(s) can explain: even if each were a missing callback's, parity would be ${formatRatio(bestCase)}`,
      ],
    };
  }
  return {
    ...gate,
    verdict: 'inconclusive',
    reasons: [
      `${counts.missing} callback(s) missing while ${n} message(s) were in flight (received by another reader and not yet deleted, or delayed): they may be the missing ones; run again once they are visible or deleted, or use --mode ack`,
    ],
  };
}
