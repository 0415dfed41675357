/**
 * Feeds the ledger from parity logs and `--sqs-archive` archives, side by side in
 * time order, judging between runs of items so that judged callbacks and messages
 * (and their bodies) leave memory: what stays is what is still undecided.
 *
 * What is judged when: after every run of items the ledger advances to the
 * watermark, the oldest of the sources' frontiers (the newest `timeMs` or
 * `sentTimestampMs` each unfinished source has handed out) minus a margin of
 * max(grace, 5 min) (`orderMarginMs`). A callback is judged missing once it is older than the
 * watermark minus the grace period, so its message may come up to
 * grace + margin after it in the other source's order before anything is
 * judged too early.
 *
 * The judgement is always the one the all-at-once order gives (every parity log,
 * then every archive, judged once at `now`): the ledger runs with `orderCheck`
 * and counts every arrival whose counterpart it already judged (or whose key it
 * already let go); at the first one, this run stops and everything is read again
 * all at once. So input that breaks the assumption (archives given newest first,
 * a message more than grace + margin out of place, a request id logged twice)
 * costs time and memory, never a different report. stdin (`-`) cannot be read
 * twice, so a run with it reads all at once from the start.
 */
import type { Readable } from 'node:stream';
import { ArchiveBatches } from './archiveSource.js';
import { ParityLedger, type LedgerOptions, type MissingCallback } from '../engine/parityLedger.js';
import { openParityLog, parityLogRead, type ParityLogBatches, type ParityLogRead } from './parityLogSource.js';
import type { CallbackRecord, QueueMessage } from '../engine/records.js';
import { mergeByTime, type TimedSource } from '../engine/timeMerge.js';

export interface OfflineReading {
  /** `time`: both sides side by side; `all-at-once`: every parity log first, as before. */
  order: 'time' | 'all-at-once';
  /** Why the run read all at once. */
  fallback?: string;
  /** Most undecided callbacks and messages held at once (sampled before each judging). */
  maxUndecided: number;
  /** Most judged keys held for the dedupe window at once. */
  maxRecentKeys: number;
  /** Fingerprints of keys let go (16 bytes each at most). */
  fingerprints: number;
}

export interface OfflineRead {
  ledger: ParityLedger;
  parityLogs: ParityLogRead;
  archive: { messages: number; unreadable: { file: string; line: number }[] };
  /** The missing callbacks to list, in the order the all-at-once read lists them (log order), at most listLimit. */
  missing: MissingCallback[];
  reading: OfflineReading;
}

export interface OfflineReadOptions {
  files: string[];
  archives: string[];
  ledger: LedgerOptions;
  /** Judging time: nothing is judged past it. */
  now: number;
  stdin?: Readable;
  /** Called on each ledger created (a fallback creates a second one), to attach listeners. */
  prepare?: (ledger: ParityLedger) => void;
  /** Items between two judgings at least (default 4096); more when the ledger holds more. */
  judgeEvery?: number;
}

/**
 * How far out of time order the sources may be before a judgement could come too
 * early: a message may follow its callback's time by up to grace + this margin in
 * the archive's order (SQS gives no order; consume runs write in receive order).
 * Memory holds about grace + margin of callbacks and messages.
 */
export function orderMarginMs(graceMs: number): number {
  return Math.max(graceMs, 300_000);
}

export async function readOffline(options: OfflineReadOptions): Promise<OfflineRead> {
  if (options.files.includes('-')) return readAllAtOnce(options, 'stdin (-) cannot be read twice');
  const timeOrdered = await readInTimeOrder(options);
  if ('ledger' in timeOrdered) return timeOrdered;
  return readAllAtOnce(options, timeOrdered.fallback);
}

async function readInTimeOrder(options: OfflineReadOptions): Promise<OfflineRead | { fallback: string }> {
  const listLimit = options.ledger.listLimit ?? 1000;
  const ledger = new ParityLedger({ ...options.ledger, orderCheck: true });
  options.prepare?.(ledger);
  const order = new Map(options.files.map((file, i) => [file, i] as const));
  const byLogOrder = (a: MissingCallback, b: MissingCallback) => order.get(a.source.file)! - order.get(b.source.file)! || a.source.line - b.source.line;
  let missing: MissingCallback[] = [];
  ledger.onMissing = chain(ledger.onMissing, (m) => {
    missing.push(m);
    if (missing.length >= 2 * listLimit) missing = missing.sort(byLogOrder).slice(0, listLimit);
  });
  const reading: OfflineReading = { order: 'time', maxUndecided: 0, maxRecentKeys: 0, fingerprints: 0 };
  const logs: ParityLogBatches[] = [];
  const archive = new ArchiveBatches(options.archives);
  try {
    for (const file of options.files) logs.push(await openParityLog(file));
    const sources: TimedSource<never>[] = [
      ...logs.map((log) => ({ next: () => log.next(), timeOf: (r: CallbackRecord) => r.timeMs, deliver: (r: CallbackRecord) => ledger.addCallback(r) })),
      { next: () => archive.next(), timeOf: (m: QueueMessage) => m.sentTimestampMs, deliver: (m: QueueMessage) => ledger.addMessage(m) },
    ] as TimedSource<never>[];
    const marginMs = orderMarginMs(options.ledger.graceMs);
    const judgeEvery = options.judgeEvery ?? 4096;
    let sinceJudged = 0;
    const step = 512;
    const complete = await mergeByTime(sources, {
      marginMs,
      every: step,
      onWatermark: (watermark) => {
        sinceJudged += step;
        const recent = ledger.rememberedKeys.recent;
        // advance() walks every undecided item and remembered key: judge less often
        // when there are many, so the walk costs a bounded share per item read.
        if (sinceJudged < Math.max(judgeEvery, (ledger.undecided + recent) / 4)) return true;
        sinceJudged = 0;
        reading.maxUndecided = Math.max(reading.maxUndecided, ledger.undecided);
        reading.maxRecentKeys = Math.max(reading.maxRecentKeys, recent);
        ledger.advance(Math.min(watermark, options.now));
        return ledger.orderConflicts === 0;
      },
    });
    if (!complete || ledger.orderConflicts > 0) {
      return { fallback: `read in time order until ${describeConflict(ledger.firstOrderConflict)}; read again all at once` };
    }
  } finally {
    await Promise.all([...logs.map((log) => log.close()), archive.close()]);
  }
  reading.maxUndecided = Math.max(reading.maxUndecided, ledger.undecided);
  ledger.advance(options.now);
  reading.fingerprints = ledger.rememberedKeys.fingerprints;
  return {
    ledger,
    parityLogs: parityLogRead(options.files, logs),
    archive: { messages: archive.messages, unreadable: archive.unreadable },
    missing: missing.sort(byLogOrder).slice(0, listLimit),
    reading,
  };
}

/** Every parity log in the order given, then every archive; judged once at `now`. Memory grows with the input. */
async function readAllAtOnce(options: OfflineReadOptions, fallback: string): Promise<OfflineRead> {
  const ledger = new ParityLedger(options.ledger);
  options.prepare?.(ledger);
  const logs: ParityLogBatches[] = [];
  const archive = new ArchiveBatches(options.archives);
  try {
    for (const file of options.files) {
      const log = await openParityLog(file, options.stdin ? { stdin: options.stdin } : {});
      logs.push(log);
      for (let batch = await log.next(); batch; batch = await log.next()) for (const record of batch) ledger.addCallback(record);
    }
    for (let batch = await archive.next(); batch; batch = await archive.next()) for (const message of batch) ledger.addMessage(message);
  } finally {
    await Promise.all([...logs.map((log) => log.close()), archive.close()]);
  }
  const undecided = ledger.undecided;
  ledger.advance(options.now);
  return {
    ledger,
    parityLogs: parityLogRead(options.files, logs),
    archive: { messages: archive.messages, unreadable: archive.unreadable },
    missing: ledger.judgement().missing,
    reading: { order: 'all-at-once', fallback, maxUndecided: undecided, maxRecentKeys: ledger.rememberedKeys.recent, fingerprints: 0 },
  };
}

function describeConflict(kind: string | undefined): string {
  switch (kind) {
    case 'callback-repeated':
      return 'a request id was logged twice';
    case 'callback-after-judged':
      return 'a callback came after its key was judged';
    case 'message-after-missing':
      return 'a message came after its callback was judged missing (inputs more out of time order than grace + margin)';
    default:
      return 'it stopped';
  }
}

function chain<T>(first: ((value: T) => void) | undefined, second: (value: T) => void): (value: T) => void {
  return first ? (value) => (first(value), second(value)) : second;
}
