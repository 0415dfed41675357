/**
 * What the peek/consume watch (./watch.ts) and the ack watch (./watchAck.ts) share:
 * their options and result, the loop of intervals, the views' recent missing ids,
 * the metrics server and an abortable wait. A module of its own so neither watch imports the other's file
 * for them.
 */
import { createServer, type Server } from 'node:http';
import type { MirrorConfig } from '../config/types.js';
import { readState as readCutoverState } from '../cutover/state.js';
import { UsageError, type ExitCode } from '../errors.js';
import type { MissingCallback, ParityCounts } from '../verify/engine/parityLedger.js';
import type { MissingCause } from '../verify/engine/gatewayAnswers.js';
import type { ParityMetrics } from '../verify/sources/metrics.js';
import type { VerifyOptions } from './verify.js';

export interface WatchOptions extends VerifyOptions {
  /** host:port for /metrics (default 127.0.0.1:9464; port 0 picks a free one). */
  listen?: string;
  /** How often the logs are read, the ledger judged, the metrics and the view updated (default 1000 ms). */
  intervalMs?: number;
  /** Seconds a peeked message stays invisible to its real consumers (default 43200, SQS's maximum). */
  visibilitySeconds?: number;
  /** Long-poll wait per receive, seconds (default 5; at most 20, SQS's limit). */
  waitSeconds?: number;
  signal?: AbortSignal;
  /** Where the live view or log lines go (default stderr). */
  print?: (text: string, redraw: boolean) => void;
  /** Live view redrawn in place (a terminal) or one line per interval; default: whether stderr is a terminal. */
  terminal?: boolean;
  /**
   * The cutover state file (`mirror cutover --state`): the phase gauge follows the
   * phase it records, read each interval; without it the gauge shows the config's phase.
   */
  cutoverState?: string;
  /** Called once the metrics server listens. */
  onListening?: (address: { host: string; port: number }) => void;
}

export interface WatchResult {
  exitCode: ExitCode;
  /** Ack mode: callbacks sent with no answer (timeout, reset), and the missing and unknown ones by cause. */
  ack?: { unknown: number; byCause: Record<string, number>; byCauseLabel: Partial<Record<MissingCause, number>> };
  ticks: number;
  parity: number | null;
  counts: ParityCounts & { unparseable: number };
  /** Callbacks and messages still undecided when the watch stopped. */
  undecided: number;
  rotations: number;
}

/**
 * The watch's intervals, written once for both modes: follow the cutover's phase
 * (when a state file is given), judge, update the metrics, print the view, wait,
 * read on. Ends after printing the view of the interval in which `stop` aborted;
 * returns how many intervals ran.
 */
export async function watchIntervals<J extends { counts: ParityCounts }>(input: {
  config: MirrorConfig;
  options: WatchOptions;
  metrics: ParityMetrics;
  stop: AbortSignal;
  ledger: { advance(now: number): void; judgement(): J; readonly undecided: number };
  /** Hands the ledger what records each callback it judges missing. */
  onMissing(add: (missing: MissingCallback) => void): void;
  /** Metrics beyond the counts (ack mode: the causes). */
  measure?(judgement: J): void;
  view(judgement: J, recent: RecentMissing, now: number, terminal: boolean): string;
  /** Reads what came since the last interval. */
  readOn(): Promise<void>;
}): Promise<number> {
  const { config, options, metrics, stop, ledger } = input;
  const print = options.print ?? ((text: string, redraw: boolean) => process.stderr.write(redraw ? `\x1b[H\x1b[2J${text}\n` : `${text}\n`));
  const terminal = options.terminal ?? Boolean(process.stderr.isTTY);
  const recent = new RecentMissing();
  input.onMissing((m) => recent.add(m));
  let phase = config.phase;
  let ticks = 0;
  for (;;) {
    const now = Date.now();
    if (options.cutoverState) {
      const current = await readCutoverState(options.cutoverState, phase).then((loaded) => loaded.state.phase, () => phase);
      if (current !== phase) metrics.setPhase((phase = current));
    }
    ledger.advance(now);
    const judgement = ledger.judgement();
    metrics.update(judgement.counts, ledger.undecided, now);
    input.measure?.(judgement);
    ticks++;
    print(input.view(judgement, recent, now, terminal), terminal);
    if (stop.aborted) return ticks;
    await abortableDelay(options.intervalMs ?? 1000, stop);
    await input.readOn();
  }
}

/**
 * The missing callbacks the views name, fed by the ledger's onMissing: the last
 * few for the terminal, and those new since the last log line (at most 10 named,
 * the rest counted). Bounded, however long the watch runs.
 */
export class RecentMissing {
  private readonly last: MissingCallback[] = [];
  private fresh: string[] = [];
  private freshMore = 0;
  constructor(private readonly keep = 5, private readonly name = 10) {}
  add(m: MissingCallback): void {
    this.last.push(m);
    if (this.last.length > this.keep) this.last.shift();
    if (this.fresh.length < this.name) this.fresh.push(m.requestId);
    else this.freshMore++;
  }
  lastOnes(): readonly MissingCallback[] {
    return this.last;
  }
  /** The ones new since the previous call. */
  takeFresh(): { ids: string[]; more: number } {
    const out = { ids: this.fresh, more: this.freshMore };
    this.fresh = [];
    this.freshMore = 0;
    return out;
  }
}

export function serveMetrics(metrics: ParityMetrics, host: string, port: number): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    metrics
      .metrics()
      .then((text) => res.writeHead(200, { 'content-type': metrics.contentType }).end(text))
      .catch(() => res.writeHead(500).end());
  });
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(new UsageError(`--listen ${host}:${port}: ${error.code === 'EADDRINUSE' ? 'the port is in use' : error.message}`)),
    );
    server.listen(port, host, () => resolve(server));
  });
}

export function abortableDelay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
