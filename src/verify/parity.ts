/**
 * The parity comparison over a loaded config: feeds the pure ledger
 * (src/verify/engine/) from the parity logs and from SQS (peek or consume),
 * earlier archives, or API Gateway's recorded answers (ack mode) through
 * src/verify/sources/, judges what is older than the grace period and applies the
 * gate. `mirror verify` and the cutover's parity gate both call it with the config
 * they hold. No body is kept unless `showBodies`, and the vendor's personal fields
 * stay masked unless `redact` is false.
 */
import { MissingDependencyError, UsageError } from '../errors.js';
import type { MirrorConfig } from '../config/types.js';
import { durationPattern, durationToMs } from '../config/nginxValues.js';
import { vendorPreset } from '../vendors/index.js';
import { ParityLedger, type ParityJudgement } from './engine/parityLedger.js';
import { applyGate, verdictExitCode } from './engine/gate.js';
import { parseMatchMode } from './engine/matchKey.js';
import type { CallbackRecord, QueueMessage } from './engine/records.js';
import { readParityLogs, resolveParityLogs, type ParityLogRead } from './sources/parityLogSource.js';
import { readOffline } from './sources/offlineRead.js';
import { expandGlob } from '../fs/glob.js';
import { gateWithInFlight, inFlightFrom, type InFlight } from './engine/inFlight.js';
import { peekRefusal } from './engine/redrivePolicy.js';
import type { VerifyResult, VerifySettings } from './verifyResult.js';

export type { VerifyResult } from './verifyResult.js';

export interface ParityOptions {
  /** Parity logs, globs or `-` (default: the config's parityLog.path). */
  parityLog?: string[];
  sqsArchive?: string[];
  mode?: 'peek' | 'consume' | 'ack';
  /** `--mode ack`: mirror ship's ack logs, beside the mirror answers log and the config's ship.ackLog. */
  ackLog?: string[];
  archive?: string;
  since?: string;
  until?: string;
  grace?: string;
  match?: string;
  gate?: number;
  minSample?: number;
  showBodies?: boolean;
  redact?: boolean;
  receivers?: number;
  now?: number;
  /** Peek even though the queue's redrive policy counts this run's receives toward the dead-letter queue. */
  allowRedriveReceives?: boolean;
}


/** The comparison over a loaded config: what `mirror verify` reports and the parity gate judges. */
export async function compareParity(config: MirrorConfig, options: ParityOptions): Promise<VerifyResult> {
  const parityLog = options.parityLog?.length ? options.parityLog : [config.parityLog.path];
  const now = options.now ?? Date.now();
  const { match, graceMs, since, until, gate, minSample, mode } = verifySettings(options, config, now);
  if (mode === 'ack') {
    if (options.sqsArchive?.length) throw new UsageError('--mode ack reads no messages: leave out --sqs-archive');
    const { runAckVerify } = await import('./ackVerify.js');
    return runAckVerify({ config, parityLog, ...(options.ackLog ? { ackLog: options.ackLog } : {}), settings: verifySettings(options, config, now), now });
  }

  const ledgerOptions = { match, graceMs, ...(since !== undefined ? { since } : {}), ...(until !== undefined ? { until } : {}) };
  // Bodies only of the mismatches the report lists (the ledger lists the first ones).
  const listLimit = 1000;
  const bodies = options.showBodies ? new Map<string, string>() : undefined;
  const messageBodies = options.showBodies ? new Map<string, string>() : undefined;
  const keepBodies = (ledger: ParityLedger) => {
    bodies?.clear();
    messageBodies?.clear();
    let listed = 0;
    if (bodies && messageBodies) {
      ledger.onBodyMismatch = (record, message) => {
        if (listed++ >= listLimit) return;
        bodies.set(record.requestId, record.body ?? '');
        messageBodies.set(message.messageId, message.body);
      };
    }
  };
  let ledger: ParityLedger;
  let parityLogs: ParityLogRead;
  let missing: ParityJudgement['missing'] | undefined;
  let sqs: VerifyResult['sqs'];
  let inFlight: InFlight | undefined;
  let receivesAdded: number | undefined;
  if (options.sqsArchive && options.sqsArchive.length > 0) {
    const archives: string[] = [];
    for (const pattern of options.sqsArchive) archives.push(...(await expandGlob(pattern)));
    const offline = await readOffline({ files: await resolveParityLogs(parityLog), archives, ledger: { ...ledgerOptions, listLimit }, now, prepare: keepBodies });
    ({ ledger, parityLogs, missing } = offline);
    sqs = { archives, messages: offline.archive.messages, unreadable: offline.archive.unreadable, reading: offline.reading };
  } else {
    // The queue is in no time order: every parity log first, then every message, judged once.
    // The AWS SDK is loaded only here: an offline run does not need it.
    const { readQueue, createSqsClient } = await import('./sources/sqsSource.js');
    const { readQueueAttributes } = await import('./sources/queueAttributes.js');
    const client = createSqsClient({
      ...(config.sqs.queue.region ? { region: config.sqs.queue.region } : {}),
      ...(config.sqs.endpoint ? { endpoint: config.sqs.endpoint } : {}),
      ...(config.sandbox?.sqsCredentials ? { credentials: config.sandbox.sqsCredentials } : {}),
    });
    try {
    const attributes = () =>
      readQueueAttributes(client, config.sqs.queueUrl).catch((error: Error) => {
        throw new MissingDependencyError(`cannot read the queue's attributes at ${config.sqs.endpoint ?? config.sqs.queueUrl}: ${error.message}`, [
          'check AWS credentials (the default provider chain), sqs:GetQueueAttributes on the queue, and sqs.endpoint for an emulator',
        ]);
      });
    const before = await attributes();
    const refusal = mode === 'peek' ? peekRefusal(before.redrivePolicy, 1, options.allowRedriveReceives === true) : undefined;
    if (refusal) throw new UsageError(`verify --mode peek refused: ${refusal}`);
    ledger = new ParityLedger({ ...ledgerOptions, listLimit });
    keepBodies(ledger);
    parityLogs = await readParityLogs(parityLog, (record: CallbackRecord) => ledger.addCallback(record));
    const read = await readQueue(
      {
        client,
        queueUrl: config.sqs.queueUrl,
        ...(config.sqs.queue.region ? { region: config.sqs.queue.region } : {}),
        ...(config.sqs.endpoint ? { endpoint: config.sqs.endpoint } : {}),
        mode,
        ...(options.archive ? { archive: options.archive } : {}),
        ...(options.receivers ? { receivers: options.receivers } : {}),
      },
      (message: QueueMessage) => ledger.addMessage(message),
    );
    sqs = {
      ...read,
      note:
        mode === 'peek'
          ? `peek: ${read.received} messages were received and not deleted; they stay invisible to their real consumers for ${read.visibilitySeconds}s`
          : `consume: ${read.deleted} messages were archived to ${options.archive} and then deleted`,
    };
    const after = await attributes();
    inFlight = inFlightFrom(before, after, mode === 'peek' ? read.received : 0);
    receivesAdded = read.received;
    } finally {
      client.destroy();
    }
  }
  ledger.advance(now);
  const judgement = ledger.judgement();
  if (missing) judgement.missing = missing;
  const plainGate = applyGate(judgement, { threshold: gate, minSample });
  const gateResult = inFlight ? gateWithInFlight(plainGate, judgement.counts, inFlight) : plainGate;
  const redact = options.redact !== false;
  const personal = vendorPreset(config.vendor).personalFields;
  return {
    exitCode: verdictExitCode(gateResult.verdict),
    verdict: gateResult.verdict,
    gate: gateResult,
    parity: judgement.parity,
    counts: { ...judgement.counts, unparseable: parityLogs.unparseable },
    lagMs: judgement.lagMs,
    missing: judgement.missing,
    mismatches: judgement.mismatches.map((m) => ({
      ...m,
      ...(bodies ? { callbackBody: mask(bodies.get(m.requestId) ?? '', personal, redact) } : {}),
      ...(messageBodies ? { messageBody: mask(messageBodies.get(m.messageId) ?? '', personal, redact) } : {}),
    })),
    unexpected: judgement.unexpected,
    parityLogs,
    sqs,
    window: { ...(since !== undefined ? { since: new Date(since).toISOString() } : {}), ...(until !== undefined ? { until: new Date(until).toISOString() } : {}), graceMs },
    match,
    ...(inFlight ? { inFlight } : {}),
    ...(receivesAdded !== undefined ? { receivesAdded } : {}),
  };
}


/** Flags over config defaults, each checked with a message naming the flag. */
export function verifySettings(options: ParityOptions, config: MirrorConfig, now: number): VerifySettings {
  const match = options.match ? parseMatchMode(options.match) : { kind: 'request-id' as const };
  if (!match) throw new UsageError(`--match ${options.match}: expected request-id, body-hash, or field:NAME[,field:NAME…]`);
  const grace = options.grace ?? config.verify.grace;
  if (!durationPattern.test(grace)) throw new UsageError(`--grace ${grace}: expected a duration such as 30s, 2m or 1h`);
  const since = options.since === undefined ? undefined : parseTime(options.since, now, '--since');
  const until = options.until === undefined ? undefined : parseTime(options.until, now, '--until');
  const gate = options.gate ?? config.verify.gate;
  if (!(gate >= 0 && gate <= 1)) throw new UsageError(`--gate ${gate}: expected a ratio from 0 to 1, e.g. 0.999`);
  const minSample = options.minSample ?? config.verify.minSample;
  if (!Number.isInteger(minSample) || minSample < 1) throw new UsageError(`--min-sample ${minSample}: expected a whole number of at least 1`);
  // A queue with a live consumer is judged from API Gateway's answers unless the user asks to receive.
  // The cutover gates call verify this way too, so they inherit the default.
  const mode = options.mode ?? (config.verify.liveConsumer && !options.sqsArchive?.length ? 'ack' : 'peek');
  if (mode === 'consume' && !options.archive) throw new UsageError('--mode consume needs --archive FILE: each message is archived before it is deleted');
  return { match, graceMs: durationToMs(grace), ...(since !== undefined ? { since } : {}), ...(until !== undefined ? { until } : {}), gate, minSample, mode };
}

/** An ISO time, or a duration back from now (`30m` = thirty minutes ago). */
function parseTime(text: string, now: number, flag: string): number {
  if (durationPattern.test(text)) return now - durationToMs(text);
  const t = Date.parse(text);
  if (Number.isNaN(t)) throw new UsageError(`${flag} ${text}: expected an ISO time (2026-11-25T06:00:00Z) or a duration back from now (30m)`);
  return t;
}

/** Masks the vendor's personal fields in a JSON body (`01012345678` -> `010*****678`). */
export function mask(body: string, fields: readonly string[], redact: boolean): string {
  if (!redact) return body;
  try {
    const value = JSON.parse(body) as unknown;
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      const copy = { ...(value as Record<string, unknown>) };
      for (const f of fields) if (typeof copy[f] === 'string') copy[f] = maskValue(copy[f] as string);
      return JSON.stringify(copy);
    }
  } catch {
    // Not JSON: mask every run of 8+ digits, the shape of a phone number.
  }
  return body.replace(/\d{8,}/g, (d) => maskValue(d));
}

function maskValue(v: string): string {
  if (v.length <= 4) return '*'.repeat(v.length);
  return `${v.slice(0, 3)}${'*'.repeat(Math.max(v.length - 6, 1))}${v.slice(-3)}`;
}

