/**
 * Pure: the ack record, one JSON line per callback once its final answer is
 * known (the contract shared with `mirror verify`, docs/ship.md). Never a body.
 */
import type { ShipCause } from '../wire/shipAck.js';
import type { ShipTargetName } from './shipLine.js';

export type ShipOutcome = 'delivered' | 'rejected' | 'gave-up' | 'not-captured';

export interface AckRecord {
  v: 1;
  kind: 'ship';
  time: string;
  request_id: string;
  target: ShipTargetName;
  status: number | null;
  error_type: string;
  outcome: ShipOutcome;
  cause: ShipCause;
  uncertain: boolean;
  attempts: number;
  latency_ms: number;
}

export interface FinalAnswer {
  requestId: string;
  target: ShipTargetName;
  outcome: ShipOutcome;
  cause: ShipCause;
  /** Last HTTP status received, when any attempt got one. */
  status?: number;
  errorType?: string;
  uncertain: boolean;
  attempts: number;
  firstAttemptMs: number;
  finalMs: number;
}

export function ackRecord(answer: FinalAnswer): AckRecord {
  return {
    v: 1,
    kind: 'ship',
    time: new Date(answer.finalMs).toISOString(),
    request_id: answer.requestId,
    target: answer.target,
    status: answer.status ?? null,
    error_type: answer.errorType ?? '',
    outcome: answer.outcome,
    cause: answer.cause,
    uncertain: answer.uncertain,
    attempts: answer.attempts,
    latency_ms: Math.round((answer.finalMs - answer.firstAttemptMs) * 10) / 10,
  };
}

export function ackLine(answer: FinalAnswer): string {
  return `${JSON.stringify(ackRecord(answer))}\n`;
}
