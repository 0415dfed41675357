/**
 * `mirror verify --watch`: the comparator running continuously. Follows the parity
 * logs across rotation, long-polls SQS, judges each callback once its grace has
 * passed, serves Prometheus metrics, and shows a live view (a terminal) or one log
 * line per interval (no terminal). Memory is bounded by what is still undecided.
 *
 * Without `--since` the logs are followed from their current end (like `tail -F -n 0`)
 * and SQS messages sent before the start are out of the window: a watch judges
 * what happens while it runs. With `--since` the logs are read from their start
 * and the window starts there.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import { ExitCode, MissingDependencyError, UsageError } from '../errors.js';
import { loadConfig } from '../config/load.js';
import { ParityLedger, type MissingCallback, type ParityJudgement } from '../verify/engine/parityLedger.js';
import { applyGate, formatRatio, verdictExitCode } from '../verify/engine/gate.js';
import { parseParityLogLine } from '../verify/engine/parityLogLine.js';
import { LogFollower } from '../verify/sources/logFollower.js';
import { ParityMetrics } from '../verify/sources/metrics.js';
import { readQueue, sqsClientFor } from '../verify/sources/sqsSource.js';
import type { VerifyOptions } from './verify.js';
import { verifySettings } from '../verify/parity.js';
import { parseHostPort } from '../flags/options.js';
import { readQueueAttributes } from '../verify/sources/queueAttributes.js';
import { peekRefusal } from '../verify/engine/redrivePolicy.js';
import { abortableDelay, serveMetrics, watchIntervals, type WatchOptions, type WatchResult } from './watchParts.js';

export { RecentMissing } from './watchParts.js';
export type { WatchOptions, WatchResult } from './watchParts.js';



export async function runWatch(options: WatchOptions): Promise<WatchResult> {
  if (options.parityLog?.includes('-')) throw new UsageError('--watch follows files; - (stdin) is for one-shot verify');
  if (options.sqsArchive && options.sqsArchive.length > 0) throw new UsageError('--watch reads SQS live; --sqs-archive is for one-shot verify');
  const { config } = await loadConfig(options.config);
  const parityLog = options.parityLog?.length ? options.parityLog : [config.parityLog.path];
  const startedAt = Date.now();
  const verifying = verifySettings(options, config, startedAt);
  const { host, port } = parseHostPort(options.listen ?? '127.0.0.1:9464', '--listen', { listen: true, example: '127.0.0.1:9464' });
  if (verifying.mode === 'ack') {
    // The queue is never touched: judged from API Gateway's answers (src/commands/watchAck.ts).
    const { runAckWatch } = await import('./watchAck.js');
    return runAckWatch({ options, config, parityLog, settings: verifying, startedAt, host, port });
  }
  const settings = { ...verifying, mode: verifying.mode };
  if (settings.mode === 'peek') {
    // As the one-shot peek: never let this watch's receives move a message to the dead-letter queue unasked.
    const refusal = await peekRefusalOf(config, options.allowRedriveReceives === true);
    if (refusal) throw new UsageError(`verify --watch --mode peek refused: ${refusal}`);
  }
  const metrics = new ParityMetrics({ now: startedAt });
  metrics.setPhase(config.phase);
  const ledger = new ParityLedger({ match: settings.match, graceMs: settings.graceMs, since: settings.since ?? startedAt });
  ledger.onMatched = (lag) => metrics.observeLag(lag);
  let unparseable = 0;
  const follower = new LogFollower(
    parityLog,
    (text, source) => {
      const parsed = parseParityLogLine(text, source);
      if (parsed.ok) ledger.addCallback(parsed.record);
      else {
        unparseable++;
        metrics.unparseableLine();
      }
    },
    { fromStart: settings.since !== undefined },
  );
  const server = await serveMetrics(metrics, host, port);
  const stop = new AbortController();
  const sqs = sqsClientFor(config);
  backOffAfterErrors(sqs, stop.signal);
  const outer = options.signal;
  const onAbort = () => stop.abort();
  if (outer?.aborted) stop.abort();
  // Ctrl-C arrives as `signal`: the command's shared SIGINT/SIGTERM handling (commands/define.ts) aborts it.
  outer?.addEventListener('abort', onAbort);
  let receiveFailure: unknown;
  let receiving: Promise<unknown> | undefined;
  let ticks = 0;
  try {
    // Read what is in place before anything else: "from the end" means the end at the start.
    await follower.poll();
    const address = server.address();
    options.onListening?.({ host, port: typeof address === 'object' && address ? address.port : port });
    receiving = readQueue(
      {
        queueUrl: config.sqs.queueUrl,
        client: sqs,
        // Named in the error when SQS cannot be reached (the client above already uses it).
        ...(config.sqs.endpoint ? { endpoint: config.sqs.endpoint } : {}),
        mode: settings.mode,
        ...(options.archive ? { archive: options.archive } : {}),
        ...(options.receivers ? { receivers: options.receivers } : {}),
        // Peek: a peeked message is not received twice while this stays below its visibility.
        visibilitySeconds: options.visibilitySeconds ?? 43_200,
        waitSeconds: Math.min(options.waitSeconds ?? 5, 20),
        signal: stop.signal,
        onError: (kind) => metrics.receiveError(kind),
      },
      (message) => ledger.addMessage(message),
    ).catch((error: unknown) => {
      // Unreachable SQS or no credentials: stop the watch and report it (exit 3), once everything is closed.
      receiveFailure = error;
      stop.abort();
    });

    ticks = await watchIntervals({
      config,
      options,
      metrics,
      stop: stop.signal,
      ledger,
      onMissing: (add) => void (ledger.onMissing = add),
      view: (judgement, recent, now, terminal) =>
        terminal ? liveView(judgement, unparseable, ledger.undecided, recent.lastOnes()) : logLine(judgement, recent.takeFresh(), now),
      readOn: () => follower.poll(),
    });
  } finally {
    stop.abort();
    outer?.removeEventListener('abort', onAbort);
    await receiving;
    sqs.destroy();
    await follower.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  if (receiveFailure !== undefined) throw receiveFailure;
  const judgement = ledger.judgement();
  const verdict = applyGate(judgement, { threshold: settings.gate, minSample: settings.minSample }).verdict;
  return {
    exitCode: verdictExitCode(verdict),
    ticks,
    parity: judgement.parity,
    counts: { ...judgement.counts, unparseable },
    undecided: ledger.undecided,
    rotations: follower.rotations,
  };
}

/** The terminal view, redrawn in place: counts, parity, lag, the most recent missing ids. */
export function liveView(j: ParityJudgement, unparseable: number, undecided: number, lastMissing: readonly MissingCallback[]): string {
  const c = j.counts;
  const last = lastMissing.map((m) => `${m.requestId} (${new Date(m.timeMs).toISOString()})`);
  return [
    `mirror verify --watch    parity ${j.parity === null ? 'n/a' : formatRatio(j.parity)}`,
    `  callbacks ${c.callbacks}  matched ${c.matched}  missing ${c.missing}  pending ${c.pending}  undecided ${undecided}`,
    `  unexpected ${c.unexpected}  duplicates ${c.duplicates}  body mismatches ${c.bodyMismatches}  body not checked ${c.bodyNotChecked}  nginx-rejected ${c.nginxRejected}  unparseable ${unparseable}`,
    `  delivery lag ms: p50 ${j.lagMs.p50 ?? '-'}  p95 ${j.lagMs.p95 ?? '-'}  p99 ${j.lagMs.p99 ?? '-'}  max ${j.lagMs.max ?? '-'}`,
    `  last missing: ${last.length > 0 ? last.join(', ') : 'none'}`,
  ].join('\n');
}

/** Without a terminal: one line per interval, naming the callbacks that became missing since the last one. */
export function logLine(j: ParityJudgement, fresh: { ids: readonly string[]; more: number }, now: number): string {
  const c = j.counts;
  const line = `${new Date(now).toISOString()} parity ${j.parity === null ? 'n/a' : formatRatio(j.parity)} callbacks ${c.callbacks} matched ${c.matched} missing ${c.missing} pending ${c.pending} unexpected ${c.unexpected} duplicates ${c.duplicates} mismatches ${c.bodyMismatches} body_not_checked ${c.bodyNotChecked} lag_p50_ms ${j.lagMs.p50 ?? '-'} lag_p99_ms ${j.lagMs.p99 ?? '-'}`;
  if (fresh.ids.length === 0 && fresh.more === 0) return line;
  return `${line} new_missing ${fresh.ids.length > 0 ? fresh.ids.join(',') : '-'}${fresh.more > 0 ? ` (+${fresh.more} more)` : ''}`;
}


/** What the command prints when the watch stops: the verdict over everything it judged. */
export function formatWatchText(r: WatchResult): string {
  const c = r.counts;
  const verdict = r.exitCode === ExitCode.ok ? 'PASS' : r.exitCode === ExitCode.checkFailed ? 'FAIL' : 'INCONCLUSIVE';
  return [
    `${verdict}: parity ${r.parity === null ? 'n/a' : formatRatio(r.parity)} over everything the watch judged (${c.matched + c.missing} callbacks, ${r.ticks} intervals)`,
    `  callbacks ${c.callbacks}  matched ${c.matched}  missing ${c.missing}  unexpected ${c.unexpected}  duplicates ${c.duplicates}  body mismatches ${c.bodyMismatches}  body not checked ${c.bodyNotChecked}`,
    `  nginx-rejected ${c.nginxRejected}  unparseable lines ${c.unparseable}  still undecided ${r.undecided}  log rotations ${r.rotations}`,
    ...(r.ack
      ? [
          `  unknown (sent, no answer: may have landed) ${r.ack.unknown}`,
          ...Object.entries(r.ack.byCause).sort((a, b) => b[1] - a[1]).map(([cause, n]) => `  missing or unknown by cause: ${cause} ${n}`),
        ]
      : []),
  ].join('\n');
}

/** The queue's redrive policy against a peek: why it must not run, or undefined. */
async function peekRefusalOf(config: Parameters<typeof sqsClientFor>[0], allowed: boolean): Promise<string | undefined> {
  const client = sqsClientFor(config);
  const attributes = await readQueueAttributes(client, config.sqs.queueUrl)
    .catch((error: Error) => {
      throw new MissingDependencyError(`cannot reach SQS at ${config.sqs.endpoint ?? config.sqs.queueUrl} to read the queue's attributes: ${error.message}`, [
        'check AWS credentials (the default provider chain), sqs:GetQueueAttributes on the queue, and sqs.endpoint for an emulator',
      ]);
    })
    .finally(() => client.destroy());
  // A watch peeks each message once: its visibility (12 h by default) outlasts the grace.
  return peekRefusal(attributes.redrivePolicy, 1, allowed);
}


/**
 * The receivers retry at once after an error; a lasting one (a deleted queue,
 * revoked credentials) would then spin. Each failed receive waits before its error
 * reaches the receiver: 0.5 s doubling to 30 s, reset by a success.
 */
function backOffAfterErrors(client: SQSClient, signal: AbortSignal): void {
  let failures = 0;
  client.middlewareStack.add(
    (next) => async (args) => {
      try {
        const out = await next(args);
        failures = 0;
        return out;
      } catch (error) {
        if (!signal.aborted) {
          failures++;
          await abortableDelay(Math.min(500 * 2 ** (failures - 1), 30_000), signal);
        }
        throw error;
      }
    },
    { step: 'initialize', name: 'mirrorWatchBackOff' },
  );
}

