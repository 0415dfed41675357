/**
 * `verify --mode ack`: parity from API Gateway's answers, never touching the queue.
 * The report, gate and exit codes are those of the other modes; what it proves is
 * less: that SQS accepted each callback (a 2xx), not that the body arrived intact.
 */
import { ExitCode, UsageError } from '../errors.js';
import type { MirrorConfig } from '../config/types.js';
import type { VerifyResult, VerifySettings } from './verifyResult.js';
import { AckLedger, applyAckGate } from './engine/ackLedger.js';
import { readAnswers } from './sources/ackSource.js';
import { answersLogPath } from '../config/answersLogPath.js';
import { readParityLogs } from './sources/parityLogSource.js';

export interface AckVerifyOptions {
  config: MirrorConfig;
  parityLog: string[];
  /** `--ack-log FILE…`: mirror ship's ack logs (required to exist). */
  ackLog?: string[];
  settings: VerifySettings;
  now: number;
}

export async function runAckVerify(options: AckVerifyOptions): Promise<VerifyResult> {
  const { config, settings, now } = options;
  if (settings.match.kind !== 'request-id') {
    throw new UsageError(`--mode ack joins on the request id only; --match ${settings.match.kind} needs a mode that reads message bodies (peek or consume)`);
  }
  const ledger = new AckLedger({
    graceMs: settings.graceMs,
    ...(settings.since !== undefined ? { since: settings.since } : {}),
    ...(settings.until !== undefined ? { until: settings.until } : {}),
  });
  const parityLogs = await readParityLogs(options.parityLog, (record) => ledger.addCallback(record));
  const shipLog = config.ship.ackLog;
  const answers = await readAnswers(
    [
      { files: options.ackLog ?? [], required: true, kind: 'answers' },
      { files: [answersLogPath(config), ...(!(options.ackLog ?? []).includes(shipLog) ? [shipLog] : [])], required: false, kind: 'answers' },
      { files: parityLogs.files.filter((f) => f !== '-'), required: false, kind: 'parity' },
    ],
    (answer) => ledger.addAnswer(answer),
  );
  const judgement = ledger.judge(now);
  const gate = applyAckGate(judgement, { threshold: settings.gate, minSample: settings.minSample });
  return {
    exitCode: gate.verdict === 'pass' ? ExitCode.ok : gate.verdict === 'fail' ? ExitCode.checkFailed : ExitCode.inconclusive,
    verdict: gate.verdict,
    gate,
    parity: judgement.parity,
    counts: { ...judgement.counts, unparseable: parityLogs.unparseable },
    lagMs: judgement.lagMs,
    missing: judgement.missing,
    mismatches: [],
    unexpected: [],
    parityLogs,
    sqs: {
      note: `ack: judged from API Gateway's answers in ${answers.files.length} file(s) (${answers.answers} answers${answers.unreadable ? `, ${answers.unreadable} unreadable line(s), first ${answers.unreadableList[0]!.file}:${answers.unreadableList[0]!.line}: ${answers.unreadableList[0]!.reason}` : ''}); the queue was not touched. A 2xx proves SQS accepted the callback, not that its body arrived intact`,
      answers,
    },
    window: {
      ...(settings.since !== undefined ? { since: new Date(settings.since).toISOString() } : {}),
      ...(settings.until !== undefined ? { until: new Date(settings.until).toISOString() } : {}),
      graceMs: settings.graceMs,
    },
    match: settings.match,
    receivesAdded: 0,
    ack: { unknown: judgement.unknownCount, unknownList: judgement.unknown, byCause: judgement.byCause, byCauseLabel: judgement.byCauseLabel },
  };
}
