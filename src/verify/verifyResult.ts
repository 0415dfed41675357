/** What a parity comparison reports, and the settings it ran with: shared by the queue, archive and ack readings. */
import type { ExitCode } from '../errors.js';
import type { ParityJudgement } from './engine/parityLedger.js';
import type { GateResult } from './engine/gate.js';
import type { MatchMode } from './engine/matchKey.js';
import type { InFlight } from './engine/inFlight.js';
import type { MissingWithCause } from './engine/ackLedger.js';
import type { MissingCause } from './engine/gatewayAnswers.js';
import type { ParityLogRead } from './sources/parityLogSource.js';
import type { OfflineReading } from './sources/offlineRead.js';
import type { SqsRead } from './sources/sqsSource.js';
import type { AnswersRead } from './sources/ackSource.js';

export interface VerifyResult {
  exitCode: ExitCode;
  verdict: GateResult['verdict'];
  gate: GateResult;
  parity: number | null;
  counts: ParityJudgement['counts'] & { unparseable: number };
  lagMs: ParityJudgement['lagMs'];
  missing: ParityJudgement['missing'];
  mismatches: (ParityJudgement['mismatches'][number] & { callbackBody?: string; messageBody?: string })[];
  unexpected: ParityJudgement['unexpected'];
  parityLogs: ParityLogRead;
  sqs: (SqsRead & { note: string }) | { note: string; answers: AnswersRead } | { archives: string[]; messages: number; unreadable: { file: string; line: number }[]; reading: OfflineReading };
  window: { since?: string; until?: string; graceMs: number };
  match: MatchMode;
  /** Live SQS runs: what the queue held out of this run's sight, read before and after it. */
  inFlight?: InFlight;
  /** `--mode ack`: callbacks sent with no answer (timeout, reset), and the missing and unknown ones by cause. */
  ack?: { unknown: number; unknownList: MissingWithCause[]; byCause: Record<string, number>; byCauseLabel: Partial<Record<MissingCause, number>> };
  /** Receives this run added to messages' ApproximateReceiveCount (peek and consume receive; ack none). */
  receivesAdded?: number;
}

export interface VerifySettings {
  match: MatchMode;
  graceMs: number;
  since?: number;
  until?: number;
  gate: number;
  minSample: number;
  mode: 'peek' | 'consume' | 'ack';
}
