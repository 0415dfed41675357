/**
 * `mirror verify --watch --mode ack`: the watch on a queue that has a real consumer.
 * Follows the parity logs and the answers logs (the mirror location's answers log,
 * `mirror ship`'s ack logs, and, for `primary` lines, the parity log itself, whose
 * upstream is API Gateway) and judges each callback from what API Gateway answered.
 * It never touches the queue: no receive, no visibility change, no receive count
 * added toward the dead-letter queue. Metrics and views are the peek watch's, plus
 * the missing callbacks by cause.
 */
import type { MirrorConfig } from '../config/types.js';
import { answersLogPath } from '../config/answersLogPath.js';
import { UsageError } from '../errors.js';
import { AckStream, type AckStreamJudgement } from '../verify/engine/ackStream.js';
import { applyAckGate } from '../verify/engine/ackLedger.js';
import { formatRatio, verdictExitCode } from '../verify/engine/gate.js';
import { parseAnswerLine } from '../verify/engine/gatewayAnswers.js';
import { parseParityLogLine } from '../verify/engine/parityLogLine.js';
import type { VerifySettings } from '../verify/verifyResult.js';
import { LogFollower } from '../verify/sources/logFollower.js';
import { ParityMetrics } from '../verify/sources/metrics.js';
import { serveMetrics, watchIntervals, type RecentMissing, type WatchOptions, type WatchResult } from './watchParts.js';

export interface AckWatchInput {
  options: WatchOptions;
  config: MirrorConfig;
  parityLog: string[];
  settings: VerifySettings;
  startedAt: number;
  host: string;
  port: number;
}

/** The answers logs a watch follows: --ack-log, the mirror location's answers log, ship.ackLog (once each). */
function answersLogsToFollow(config: MirrorConfig, ackLog: readonly string[] = []): string[] {
  return [...new Set([...ackLog, answersLogPath(config), config.ship.ackLog])];
}

export async function runAckWatch(input: AckWatchInput): Promise<WatchResult> {
  const { options, config, parityLog, settings, startedAt, host, port } = input;
  if (settings.match.kind !== 'request-id') {
    throw new UsageError(`--mode ack joins on the request id only; --match ${settings.match.kind} needs a mode that reads message bodies (peek or consume)`);
  }
  if (options.archive) throw new UsageError('--mode ack never receives a message: leave out --archive');
  const metrics = new ParityMetrics({ now: startedAt });
  metrics.setPhase(config.phase);
  const ledger = new AckStream({ graceMs: settings.graceMs, since: settings.since ?? startedAt, ...(settings.until !== undefined ? { until: settings.until } : {}) });
  const fromStart = settings.since !== undefined;
  let unparseable = 0;
  let unreadableAnswers = 0;
  const parity = new LogFollower(
    parityLog,
    (text, source) => {
      const parsed = parseParityLogLine(text, source);
      if (!parsed.ok) {
        unparseable++;
        metrics.unparseableLine();
        return;
      }
      const now = Date.now();
      ledger.addCallback(parsed.record, now);
      // In primary the callback location's upstream is API Gateway: its line is also the answer.
      if (parsed.record.phase === 'primary') {
        const answer = parseAnswerLine(text, 'parity');
        if (answer.ok) ledger.addAnswer(answer.answer, now);
      }
    },
    { fromStart },
  );
  const answers = new LogFollower(
    answersLogsToFollow(config, options.ackLog),
    (text) => {
      if (text.trim() === '') return;
      const parsed = parseAnswerLine(text, 'answers');
      if (parsed.ok) ledger.addAnswer(parsed.answer, Date.now());
      else unreadableAnswers++;
    },
    { fromStart },
  );
  const server = await serveMetrics(metrics, host, port);
  const stop = new AbortController();
  const outer = options.signal;
  const onAbort = () => stop.abort();
  if (outer?.aborted) stop.abort();
  // Ctrl-C arrives as `signal`: the command's shared SIGINT/SIGTERM handling (commands/define.ts) aborts it.
  outer?.addEventListener('abort', onAbort);
  let ticks = 0;
  try {
    // What is in place before anything else: "from the end" means the end at the start.
    await parity.poll();
    await answers.poll();
    const address = server.address();
    options.onListening?.({ host, port: typeof address === 'object' && address ? address.port : port });
    ticks = await watchIntervals({
      config,
      options,
      metrics,
      stop: stop.signal,
      ledger,
      onMissing: (add) => void (ledger.onMissing = (missing) => add(missing)),
      measure: (judgement) => metrics.updateCauses(judgement.byCauseLabel, judgement.unknownCount),
      view: (judgement, recent, now, terminal) =>
        terminal ? ackLiveView(judgement, unparseable, unreadableAnswers, ledger.undecided, recent) : ackLogLine(judgement, recent.takeFresh(), now),
      // Answers first: a callback read in this interval then finds an answer written before it.
      readOn: async () => {
        await answers.poll();
        await parity.poll();
      },
    });
  } finally {
    stop.abort();
    outer?.removeEventListener('abort', onAbort);
    await parity.close();
    await answers.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  const judgement = ledger.judgement();
  const gate = applyAckGate({ ...judgement, missing: [], unknown: [] }, { threshold: settings.gate, minSample: settings.minSample });
  return {
    exitCode: verdictExitCode(gate.verdict),
    ticks,
    parity: judgement.parity,
    counts: { ...judgement.counts, unparseable },
    undecided: ledger.undecided,
    rotations: parity.rotations,
    ack: { unknown: judgement.unknownCount, byCause: judgement.byCause, byCauseLabel: nonZero(judgement.byCauseLabel) },
  };
}

function nonZero<K extends string>(counts: Record<K, number>): Partial<Record<K, number>> {
  return Object.fromEntries(Object.entries<number>(counts).filter(([, n]) => n > 0)) as Partial<Record<K, number>>;
}

function causesText(j: AckStreamJudgement): string {
  const groups = Object.entries(j.byCause).sort((a, b) => b[1] - a[1]);
  return groups.length === 0 ? 'none' : groups.map(([cause, n]) => `${cause} ${n}`).join(', ');
}

/** The terminal view in ack mode: counts, parity, unknowns, causes, the most recent missing ids. */
function ackLiveView(j: AckStreamJudgement, unparseable: number, unreadableAnswers: number, undecided: number, recent: RecentMissing): string {
  const c = j.counts;
  const last = recent.lastOnes().map((m) => `${m.requestId} (${new Date(m.timeMs).toISOString()})`);
  return [
    `mirror verify --watch --mode ack    parity ${j.parity === null ? 'n/a' : formatRatio(j.parity)}    (API Gateway's answers; the queue is not touched)`,
    `  callbacks ${c.callbacks}  delivered ${c.matched}  missing ${c.missing}  unknown ${j.unknownCount}  pending ${c.pending}  undecided ${undecided}`,
    `  nginx-rejected ${c.nginxRejected}  not mirrored ${c.notMirrored}  unparseable ${unparseable}  unreadable answers ${unreadableAnswers}`,
    `  missing or unknown by cause: ${causesText(j)}`,
    `  last missing: ${last.length > 0 ? last.join(', ') : 'none'}`,
  ].join('\n');
}

/** Without a terminal: one line per interval in ack mode. */
function ackLogLine(j: AckStreamJudgement, fresh: { ids: readonly string[]; more: number }, now: number): string {
  const c = j.counts;
  const causes = Object.entries(j.byCauseLabel).filter(([, n]) => n > 0).map(([cause, n]) => `${cause}:${n}`).join(',');
  const line = `${new Date(now).toISOString()} mode ack parity ${j.parity === null ? 'n/a' : formatRatio(j.parity)} callbacks ${c.callbacks} delivered ${c.matched} missing ${c.missing} unknown ${j.unknownCount} pending ${c.pending} causes ${causes || '-'}`;
  if (fresh.ids.length === 0 && fresh.more === 0) return line;
  return `${line} new_missing ${fresh.ids.length > 0 ? fresh.ids.join(',') : '-'}${fresh.more > 0 ? ` (+${fresh.more} more)` : ''}`;
}
