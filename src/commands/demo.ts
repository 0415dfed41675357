/**
 * `mirror demo`: the whole migration on this machine, on embedded defaults. It
 * starts the sandbox (real nginx in the `off` phase in front of an origin,
 * dnsmasq, the gateway stand-in executing the rendered OpenAPI document, fauxqs),
 * drives vendor-shaped callbacks at a steady rate, and walks
 * off -> shadow -> shadow-domain -> primary -> direct with the real
 * `mirror cutover advance --reload` at every step, each gated: the probe into
 * shadow, `verify` over the phase's soak window after that. On the way it shows
 * one refused advance: shadow-domain with a wrong base path mirrors into 403s, the
 * gate into primary catches it, and a rollback and the fix follow.
 *
 * `mirror verify --watch` runs beside it in consume mode: it serves the metrics
 * and archives every message, and the gates verify against that archive. With
 * `consumer`, a consumer receives and deletes beside the queue as the real one
 * does: the queue is live, so the watch and every parity gate judge from API
 * Gateway's answers (ack mode) and never touch it, and the summary shows the
 * missing callbacks by cause.
 * Nothing here prints a callback body: they hold phone numbers.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, Pool, interceptors, type Dispatcher } from 'undici';
import { parse as parseYaml, stringify } from 'yaml';
import { ExitCode, UsageError } from '../errors.js';
import type { Phase } from '../config/phases.js';
import { findNginx } from '../nginx/nginxBinary.js';
import { startFullSandbox, type FullSandbox } from '../sandbox/fullSandbox.js';
import { trickyCallback } from '../sandbox/callbacks.js';
import { vendorPreset } from '../vendors/index.js';
import { runCutoverAdvance, runCutoverRollback, type CutoverMoveResult } from './cutover.js';
import { defaultGate, mirrorProbe, type Gate, type GateResult } from '../cutover/gates.js';
import { runWatch, type WatchResult } from './watch.js';
import { placeShipperState, shipsFromLog, startSandboxShipper, type SandboxShipper } from '../sandbox/sandboxShipper.js';
import type { QueueMessage } from '../verify/engine/records.js';
import { ArchiveBatches } from '../verify/sources/archiveSource.js';

export interface DemoOptions {
  /** Callbacks per second (default 20). */
  rate?: number;
  /** How long traffic flows in each phase before the next gate (default 5 s). */
  soakMs?: number;
  nginx?: string;
  keep?: boolean;
  /** Where the metrics are served (default 127.0.0.1 on a free port). */
  listen?: string;
  progress?: (line: string) => void;
  /** Ctrl-C: stops the walk and every process. */
  signal?: AbortSignal;
  /** The user's mirror.yaml: the walk runs their names (sandboxConfig.ts says what becomes local). */
  config?: string;
  /** Run a consumer beside the queue (receive and delete): the gates and the watch judge in ack mode. */
  consumer?: boolean;
  /** How shadow traffic reaches API Gateway (default: the config's mirror.transport); ship runs `mirror ship` beside the walk. */
  transport?: 'nginx' | 'ship';
}

interface DemoStep {
  action: 'advance' | 'rollback' | 'edit';
  from: Phase;
  to: Phase;
  outcome: string;
  exitCode: number;
  /** What this step is for in the story. */
  note: string;
  gate?: GateResult;
  reloadMs?: number;
  ms: number;
}

interface DemoPhaseFigures {
  /** The phase, `a->b` while a transition ran, or `shadow-domain (broken)`. */
  label: string;
  sent: number;
  /** Answered 2xx to the vendor. */
  answered: number;
  receivedByOrigin: number;
  arrivedInSqs: number;
  /** Where this phase must deliver every callback. */
  mustReach: string;
  /** Callbacks that did not reach where the phase must deliver them. */
  lost: number;
}

export interface DemoResult {
  exitCode: ExitCode;
  verdict: 'pass' | 'fail';
  rate: number;
  metricsUrl: string;
  workDir: string;
  steps: DemoStep[];
  phases: DemoPhaseFigures[];
  totals: { sent: number; receivedByOrigin: number; arrivedInSqs: number; lost: number; expectedLossInBrokenStep: number };
  lagMs: { p50: number | null; p95: number | null; max: number | null };
  finalPhase: Phase;
  /** Every process the demo started (all stopped when it returns, unless --keep). */
  processes: { name: string; pid: number }[];
  /** Why the verdict is fail (empty on pass). */
  problems: string[];
  /**
   * With the consumer: one ack-mode verify over the whole walk (the nginx-logged phases),
   * its missing and unknown callbacks by cause ("http-403 (403 ForbiddenException)").
   */
  ack?: { mode: 'ack'; callbacks: number; delivered: number; missing: number; unknown: number; byCause: Record<string, number> };
}

const brokenLabel = 'shadow-domain (broken)';

export async function runDemo(options: DemoOptions = {}): Promise<DemoResult> {
  const rate = options.rate ?? 20;
  if (!Number.isFinite(rate) || rate < 1 || rate > 500) throw new UsageError(`--rate must be a number of callbacks per second from 1 to 500, got ${String(options.rate)}`);
  const soakMs = options.soakMs ?? 5_000;
  const say = options.progress ?? (() => undefined);
  // Exit 3 with the install line when nginx is missing, before anything starts.
  const nginxPath = await findNginx(options.nginx);
  // The default credential chain is what verify and probe use; the emulator checks none.
  process.env.AWS_ACCESS_KEY_ID ??= 'sandbox';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'sandbox';

  say(`demo: starting the sandbox on 127.0.0.1: ${nginxPath} (phase off), an origin, dnsmasq, the API Gateway stand-in (TLS, test CA), fauxqs`);
  const userConfig = options.config === undefined ? undefined : await readUserConfig(options.config);
  if (options.transport !== undefined && options.transport !== 'nginx' && options.transport !== 'ship') throw new UsageError(`--transport ${String(options.transport)}: expected nginx or ship`);
  const transport = options.transport;
  const sandbox = await startFullSandbox({
    nginxPath,
    phase: 'off',
    serverLevelHeaders: true,
    ...(userConfig ? { userConfig } : {}),
    ...(transport ? { editConfig: (raw: Record<string, any>) => void (raw.mirror = { ...raw.mirror, transport }) } : {}),
  });
  let shipper: SandboxShipper | undefined;
  const workDir = await mkdtemp(join(tmpdir(), 'mirror-demo-'));
  const demoStart = new Date().toISOString();
  const watchStop = new AbortController();
  let watching: Promise<WatchResult> | undefined;
  const driver = new Driver(sandbox, rate);
  const onAbort = () => watchStop.abort();
  options.signal?.addEventListener('abort', onAbort);
  try {
    const graceMs = 2_000;
    const minSample = Math.max(5, Math.floor((rate * Math.max(soakMs - graceMs, 1_000)) / 1000 / 2));
    const tree = sandbox.configTree();
    tree.verify = { grace: '2s', gate: 0.999, minSample, ...(options.consumer ? { liveConsumer: true } : {}) };
    const configPath = join(workDir, 'mirror.yaml');
    // With ship, `mirror ship` runs beside the walk from the start (cutover advance
    // refuses a shadow phase without it), and restarts after each edit of the config,
    // as its service would be restarted.
    const shipMetricsUrl = shipsFromLog(tree) ? await placeShipperState(tree, workDir) : undefined;
    const startShipper = async () => {
      shipper = await startSandboxShipper({ configPath, parityLog: sandbox.stack.parityLogPath, metricsUrl: shipMetricsUrl!, logPath: join(workDir, 'ship.log') });
      say(`demo: mirror ship (pid ${shipper.pid}) tails ${sandbox.stack.parityLogPath}; its metrics at ${shipper.metricsUrl}`);
    };
    const writeConfig = async () => {
      await writeFile(configPath, stringify(tree));
      if (shipper) {
        await shipper.stop();
        await startShipper();
      }
    };
    await writeConfig();
    if (shipMetricsUrl) await startShipper();
    const archive = join(workDir, 'sqs-archive.jsonl');
    await writeFile(archive, '', { mode: 0o600 });

    const h = sandbox.stack.harness;
    const nginxArgs = `-p ${h.prefix} -c ${h.confPath} -e ${h.errorLogPath}`;
    const live = {
      config: configPath,
      state: join(workDir, 'state', 'state.json'),
      nginxDir: join(h.prefix, 'conf'),
      nginx: nginxPath,
      reload: true,
      testCommand: `${nginxPath} -t ${nginxArgs}`,
      reloadCommand: `${nginxPath} -s reload ${nginxArgs}`,
      pidFile: join(h.prefix, 'nginx.pid'),
      errorLog: h.errorLogPath,
    };
    const probe = mirrorProbe({ count: 3, timeout: '15s', connectTo: `127.0.0.1:${sandbox.gatewayPort}`, ca: sandbox.stack.ca.caPath });
    // The cutover's own gates: into shadow, validate + lint + a probe; later, verify over
    // the soak window, against the archive the watch writes (it consumes the queue).
    // With the consumer the queue is live: no archive, so the gates judge from API Gateway's answers (verify.liveConsumer).
    const gate: Gate = defaultGate({ probe, parityLog: [sandbox.stack.parityLogPath], ...(options.consumer ? {} : { sqsArchive: [archive] }) });

    // verify --watch: metrics, and the archive every gate verifies against. It starts
    // once shadow is entered: before that nothing reaches SQS but the gate's probes,
    // which the probe must find in the queue, not in the archive.
    let metricsUrl = '';
    const startWatch = async () => {
      const listening = new Promise<void>((resolve) => {
        watching = runWatch({
          config: configPath,
          parityLog: [sandbox.stack.parityLogPath],
          ...(options.consumer ? {} : { mode: 'consume' as const, archive }),
          since: demoStart,
          cutoverState: join(workDir, 'state', 'state.json'),
          listen: options.listen ?? '127.0.0.1:0',
          intervalMs: 500,
          waitSeconds: 1,
          signal: watchStop.signal,
          print: () => undefined,
          onListening: ({ host, port }) => {
            metricsUrl = `http://${host}:${port}/metrics`;
            resolve();
          },
        });
        watching.catch(() => resolve());
      });
      await listening;
      if (!metricsUrl) await watching; // it failed to start: surface why
      say(`demo: metrics at ${metricsUrl} (mirror verify --watch, ${options.consumer ? "ack mode: API Gateway's answers, the queue left to its consumer" : `consume mode into ${archive}`})`);
    };

    const steps: DemoStep[] = [];
    let phase = 'off' as Phase;
    const move = async (action: 'advance' | 'rollback', to: Phase, note: string, label?: string, expect: 'done' | 'refused' = 'done'): Promise<CutoverMoveResult> => {
      if (options.signal?.aborted) throw new UsageError('interrupted');
      const started = Date.now();
      driver.label = `${driver.label}->${label ?? to}`;
      const result = action === 'advance' ? await runCutoverAdvance({ ...live, to, gateImpl: gate }) : await runCutoverRollback({ ...live, to });
      const step: DemoStep = {
        action,
        from: result.from,
        to: result.to,
        outcome: result.outcome,
        exitCode: result.exitCode,
        note,
        ...(result.gate ? { gate: result.gate } : {}),
        ...(result.reload?.ms !== undefined ? { reloadMs: result.reload.ms } : {}),
        ms: Date.now() - started,
      };
      steps.push(step);
      if (result.outcome === 'done') {
        phase = result.to;
        driver.label = label ?? result.to;
        if (phase === 'direct') driver.goDirect();
      } else {
        driver.label = driver.label.split('->')[0]!;
      }
      say(`demo: ${describeStep(step)}`);
      if (result.outcome !== expect) throw new WalkStopped(`${action} ${result.from} -> ${result.to} was ${result.outcome}, expected ${expect}: ${[...result.problems, result.gate?.summary ?? ''].filter(Boolean).join('; ')}`);
      return result;
    };
    const soak = async (what: string) => {
      say(`demo: ${driver.label}: ${what}; callbacks flow at ${rate}/s for ${soakMs / 1000} s`);
      await sleep(soakMs, options.signal);
    };

    driver.label = 'off';
    driver.start();
    say(`demo: driving ${sandbox.stack.config.vendor} callbacks at ${rate}/s into ${sandbox.stack.callbackUrl} (the origin answers; nginx logs each to the parity log)`);
    const problems: string[] = [];
    try {
      await sleep(Math.min(soakMs, 2_000), options.signal);
      await move('advance', 'shadow', 'validate + lint + probes into SQS');
      // After the probes: they must find their messages in the queue, before a consumer takes them.
      if (options.consumer) {
        sandbox.startConsumer();
        say('demo: a consumer now receives and deletes every message, as the real one does: the gates judge in ack mode');
      }
      await startWatch();
      await soak('nginx mirrors every callback to the execute-api URL');

      // The deliberate mistake: a base path the custom domain does not map.
      const rightBasePath: string = tree.apiGateway.basePath ?? '';
      const wrongBasePath = rightBasePath === '' ? 'v1' : `${rightBasePath.replace(/\/+$/, '')}-typo`;
      tree.apiGateway.basePath = wrongBasePath;
      await writeConfig();
      steps.push({ action: 'edit', from: phase, to: phase, outcome: 'done', exitCode: 0, note: `mirror.yaml: apiGateway.basePath "${rightBasePath}" -> "${wrongBasePath}" (a mistake: the domain maps ${rightBasePath === '' ? 'no base path' : `"${rightBasePath}"`})`, ms: 0 });
      say(`demo: editing mirror.yaml: apiGateway.basePath = "${wrongBasePath}" (deliberately wrong)`);
      await move('advance', 'shadow-domain', 'parity in shadow', brokenLabel);
      await soak(`the mirror now goes to https://${sandbox.stack.config.apiGateway.customDomain ?? ''}/${wrongBasePath}/... and API Gateway answers 403`);
      await move('advance', 'primary', 'parity in shadow-domain: the gate must refuse', undefined, 'refused');
      await move('rollback', 'shadow', 'back to the phase that worked, gate-free');
      tree.apiGateway.basePath = rightBasePath;
      await writeConfig();
      steps.push({ action: 'edit', from: phase, to: phase, outcome: 'done', exitCode: 0, note: `mirror.yaml: apiGateway.basePath "${wrongBasePath}" -> "${rightBasePath}" (the fix)`, ms: 0 });
      say(`demo: fixing mirror.yaml: apiGateway.basePath = "${rightBasePath}"`);
      await soak('shadow again, with the fixed config');
      await move('advance', 'shadow-domain', 'parity in shadow');
      await soak('nginx mirrors through the custom domain');
      await move('advance', 'primary', 'parity in shadow-domain');
      await soak('API Gateway answers the vendor through nginx; the origin gets a mirror');
      await move('advance', 'direct', 'parity in primary');
      await soak("the vendor's callback URL names the custom domain: straight to API Gateway");
    } catch (error) {
      if (!(error instanceof WalkStopped)) throw error;
      problems.push(error.message);
      say(`demo: stopping the walk: ${error.message}`);
    }

    await driver.stop();
    say('demo: traffic stopped; waiting for the last messages');
    const sentBodies = driver.records.filter((r) => r.status !== null && r.status < 300);
    const mustReachSqs = sentBodies.filter((r) => needsSqs(r.label)).length;
    const deadline = Date.now() + 20_000;
    if (!metricsUrl) await startWatch();
    const readMessages = async () => (options.consumer ? [...(sandbox.consumer?.consumed ?? [])] : readArchive(archive));
    let messages = await readMessages();
    while (Date.now() < deadline && countArrived(driver.records, messages) < mustReachSqs) {
      await sleep(250, options.signal);
      messages = await readMessages();
    }
    const ack = options.consumer ? await ackSummary(configPath, sandbox.stack.parityLogPath, demoStart) : undefined;
    const figures = phaseFigures(driver.records, messages, sandbox);
    const lag = lagOf(driver.records, messages);
    const totals = {
      sent: driver.records.length,
      receivedByOrigin: figures.reduce((n, f) => n + f.receivedByOrigin, 0),
      arrivedInSqs: figures.reduce((n, f) => n + f.arrivedInSqs, 0),
      lost: figures.filter((f) => f.label !== brokenLabel).reduce((n, f) => n + f.lost, 0),
      expectedLossInBrokenStep: figures.filter((f) => f.label === brokenLabel).reduce((n, f) => n + (f.sent - f.arrivedInSqs), 0),
    };
    if (phase !== 'direct') problems.push(`the walk stopped in ${phase}, not direct`);
    if (totals.lost > 0) problems.push(`${totals.lost} callbacks did not reach where their phase delivers them`);
    const result: DemoResult = {
      exitCode: problems.length === 0 ? ExitCode.ok : ExitCode.checkFailed,
      verdict: problems.length === 0 ? 'pass' : 'fail',
      rate,
      metricsUrl,
      workDir,
      steps,
      phases: figures,
      totals,
      lagMs: lag,
      finalPhase: phase,
      processes: [
        { name: 'nginx (master)', pid: sandbox.stack.nginx.pid },
        { name: 'dnsmasq', pid: sandbox.stack.dns?.pid ?? 0 },
        { name: 'fauxqs', pid: sandbox.fauxqs.pid },
        ...(shipper ? [{ name: 'mirror ship', pid: shipper.pid }] : []),
      ],
      problems,
      ...(ack ? { ack } : {}),
    };
    if (options.keep) {
      say(formatDemoText(result));
      say(
        [
          `demo: --keep: everything is still running. Look around:`,
          `  curl -s ${metricsUrl} | grep ^mirror_`,
          `  POST a callback: curl -s -H 'content-type: application/json' -d '{"MSGID":"x"}' ${sandbox.stack.callbackUrl}`,
          `  config ${configPath}; cutover state ${live.state}; parity log ${sandbox.stack.parityLogPath}`,
          `  nginx error log ${h.errorLogPath}; SQS archive ${archive}`,
          `Press Ctrl-C to stop every process.`,
        ].join('\n'),
      );
      await new Promise<void>((resolve) => {
        if (options.signal?.aborted) return resolve();
        options.signal?.addEventListener('abort', () => resolve(), { once: true });
        process.once('SIGINT', () => resolve());
        process.once('SIGTERM', () => resolve());
      });
    }
    return result;
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    await driver.stop();
    watchStop.abort();
    await watching?.catch(() => undefined);
    await shipper?.stop().catch(() => undefined);
    await sandbox.stop();
    if (!options.keep) await rm(workDir, { recursive: true, force: true });
  }
}

interface SentRecord {
  seq: number;
  label: string;
  body: string;
  sentAt: number;
  status: number | null;
}

/**
 * A vendor sends a callback again when its connection closed with no answer. nginx's
 * reload closes idle keepalive connections, and a POST that meets the close gets a
 * reset, not an answer; without this the demo would count such a callback as lost
 * although any real sender retries it. Only connection errors are retried, never an
 * HTTP status; a copy that did arrive the first time is a duplicate, which the demo
 * (matching on bodies) and verify count, never as lost.
 */
function vendorRetry(): Dispatcher.DispatcherComposeInterceptor {
  return interceptors.retry({ methods: ['POST'], statusCodes: [], maxRetries: 3, minTimeout: 50, maxTimeout: 500 });
}

/** Vendor-shaped callbacks at a steady rate, to nginx, or straight to API Gateway in `direct`. */
class Driver {
  label = 'off';
  readonly records: SentRecord[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly nginxPool: Pool;
  private readonly nginx: Dispatcher;
  private direct: { agent: Agent; dispatcher: Dispatcher; url: URL; host: string } | undefined;
  private seq = 0;

  constructor(
    private readonly sandbox: FullSandbox,
    private readonly rate: number,
  ) {
    this.nginxPool = new Pool(new URL(sandbox.stack.callbackUrl).origin, { connections: 4 });
    this.nginx = this.nginxPool.compose(vendorRetry());
  }

  start(): void {
    const startedAt = Date.now();
    // Catch up by the clock, so the rate holds whatever each request costs.
    this.timer = setInterval(() => {
      const due = Math.floor(((Date.now() - startedAt) * this.rate) / 1000);
      while (this.seq < due) this.send(this.seq++);
    }, Math.max(5, Math.floor(1000 / this.rate / 2)));
  }

  goDirect(): void {
    const { stack, gatewayPort } = this.sandbox;
    const host = stack.config.apiGateway.customDomain!;
    const base = stack.config.apiGateway.basePath ? `/${stack.config.apiGateway.basePath}` : '';
    const agent = new Agent({ connect: { ca: stack.ca.caPem, servername: host }, connections: 4 });
    this.direct = {
      agent,
      dispatcher: agent.compose(vendorRetry()),
      url: new URL(`https://127.0.0.1:${gatewayPort}${base}${stack.config.apiGateway.resourcePath}`),
      host,
    };
  }

  private send(seq: number): void {
    const body = trickyCallback(vendorPreset(this.sandbox.stack.config.vendor), 1_000_000 + seq);
    const record: SentRecord = { seq, label: this.label, body, sentAt: Date.now(), status: null };
    this.records.push(record);
    const direct = this.direct;
    const path = new URL(this.sandbox.stack.callbackUrl).pathname;
    const request = direct
      ? direct.dispatcher.request({ origin: direct.url.origin, path: direct.url.pathname, method: 'POST', headers: { host: direct.host, 'content-type': 'application/json' }, body })
      : this.nginx.request({ path, method: 'POST', headers: { 'content-type': 'application/json' }, body });
    const done = request
      .then(async (res) => {
        await res.body.text();
        record.status = res.statusCode;
      })
      .catch(() => undefined)
      .finally(() => this.inFlight.delete(done));
    this.inFlight.add(done);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await Promise.all([...this.inFlight]);
    await this.nginxPool.close().catch(() => undefined);
    await this.direct?.agent.close().catch(() => undefined);
  }
}

/** Where a phase must deliver each callback. A transition's callbacks may meet either side's rule. */
function rulesOf(label: string): ('origin' | 'sqs')[][] {
  const one = (phase: string): ('origin' | 'sqs')[] =>
    phase === 'off' || phase === brokenLabel ? ['origin'] : phase === 'shadow' || phase === 'shadow-domain' ? ['origin', 'sqs'] : ['sqs'];
  return label.split('->').map(one);
}

function needsSqs(label: string): boolean {
  return rulesOf(label).every((rule) => rule.includes('sqs'));
}

/** Every message archived so far, read as verify reads archives (a line still being written is skipped). */
async function readArchive(path: string): Promise<QueueMessage[]> {
  const archive = new ArchiveBatches([path]);
  const out: QueueMessage[] = [];
  try {
    for (let batch = await archive.next(); batch; batch = await archive.next()) out.push(...batch);
  } finally {
    await archive.close();
  }
  return out;
}

function countArrived(records: SentRecord[], messages: QueueMessage[]): number {
  const bodies = new Set(messages.map((m) => m.body));
  return records.filter((r) => needsSqs(r.label) && bodies.has(r.body)).length;
}

function phaseFigures(records: SentRecord[], messages: QueueMessage[], sandbox: FullSandbox): DemoPhaseFigures[] {
  const inSqs = new Set(messages.map((m) => m.body));
  const atOrigin = new Set(sandbox.stack.origin.requests.map((r) => r.body.toString('utf8')));
  const out = new Map<string, DemoPhaseFigures>();
  for (const r of records) {
    const f =
      out.get(r.label) ??
      (() => {
        const fresh: DemoPhaseFigures = { label: r.label, sent: 0, answered: 0, receivedByOrigin: 0, arrivedInSqs: 0, mustReach: rulesOf(r.label).map((rule) => rule.join('+')).join(' or '), lost: 0 };
        out.set(r.label, fresh);
        return fresh;
      })();
    f.sent++;
    if (r.status !== null && r.status < 300) f.answered++;
    const origin = atOrigin.has(r.body);
    const sqs = inSqs.has(r.body);
    if (origin) f.receivedByOrigin++;
    if (sqs) f.arrivedInSqs++;
    const reached = rulesOf(r.label).some((rule) => rule.every((where) => (where === 'origin' ? origin : sqs)));
    // Lost: answered 2xx but not where the phase delivers, or not answered 2xx at all,
    // after the driver's retries of a connection closed with no answer (vendorRetry).
    const answered = r.status !== null && r.status < 300;
    if (!answered || !reached) f.lost++;
  }
  return [...out.values()];
}

function lagOf(records: SentRecord[], messages: QueueMessage[]): DemoResult['lagMs'] {
  const sentAt = new Map(records.map((r) => [r.body, r.sentAt]));
  const lags = messages.flatMap((m) => {
    const at = sentAt.get(m.body);
    return at !== undefined && m.sentTimestampMs > 0 ? [Math.max(0, m.sentTimestampMs - at)] : [];
  });
  lags.sort((a, b) => a - b);
  const q = (p: number) => (lags.length === 0 ? null : lags[Math.min(lags.length - 1, Math.ceil(p * lags.length) - 1)]!);
  return { p50: q(0.5), p95: q(0.95), max: lags.length === 0 ? null : lags[lags.length - 1]! };
}

class WalkStopped extends Error {}

function describeStep(s: DemoStep): string {
  if (s.action === 'edit') return s.note;
  const head = `${s.action} ${s.from} -> ${s.to}: ${s.outcome.toUpperCase()}${s.outcome === 'done' ? '' : ` (exit ${s.exitCode})`}`;
  const byCause = s.gate?.figures.missingByCause;
  const gate = s.gate ? `; gate ${s.gate.verdict}${s.gate.figures.mode === 'ack' ? ' (ack mode)' : ''}: ${s.gate.summary}${byCause !== undefined && byCause !== 'none' ? `; missing by cause: ${byCause}` : ''}` : '';
  const reload = s.reloadMs !== undefined ? `; nginx reloaded in ${s.reloadMs} ms` : '';
  return `${head}${gate}${reload}`;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new UsageError('interrupted'));
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(new UsageError('interrupted'));
      },
      { once: true },
    );
  });
}

export function formatDemoText(result: DemoResult): string {
  const lines = [
    `${result.verdict === 'pass' ? 'PASS' : 'FAIL'}: mirror demo walked off -> ${result.finalPhase} at ${result.rate} callbacks/s; ${result.totals.sent} sent, ${result.totals.lost} lost`,
    '',
    'Steps:',
    ...result.steps.map((s) => `  ${describeStep(s)}`),
    '',
    'Per phase (what the vendor sent; where each had to arrive):',
    `  ${'phase'.padEnd(34)} ${'sent'.padStart(5)} ${'2xx'.padStart(5)} ${'origin'.padStart(6)} ${'sqs'.padStart(5)} ${'lost'.padStart(5)}  must reach`,
    ...result.phases.map(
      (f) =>
        `  ${f.label.padEnd(34)} ${String(f.sent).padStart(5)} ${String(f.answered).padStart(5)} ${String(f.receivedByOrigin).padStart(6)} ${String(f.arrivedInSqs).padStart(5)} ${String(f.lost).padStart(5)}  ${f.mustReach}`,
    ),
    '',
    `Totals: ${result.totals.sent} sent, ${result.totals.receivedByOrigin} received by the origin, ${result.totals.arrivedInSqs} arrived in SQS, ${result.totals.lost} lost; ${result.totals.expectedLossInBrokenStep} not mirrored during the deliberately broken step (the origin had them all)`,
    `Delivery lag (SQS SentTimestamp - send time): p50 ${result.lagMs.p50 ?? '-'} ms, p95 ${result.lagMs.p95 ?? '-'} ms, max ${result.lagMs.max ?? '-'} ms`,
    `Metrics were served at ${result.metricsUrl}`,
  ];
  if (result.ack) {
    const a = result.ack;
    const causes = Object.entries(a.byCause).sort((x, y) => y[1] - x[1]);
    lines.push(
      `Ack mode (a consumer ran beside the queue; judged from API Gateway's answers): ${a.callbacks} callbacks nginx sent, ${a.delivered} delivered, ${a.missing} missing, ${a.unknown} unknown`,
      ...(causes.length === 0 ? ['  missing callbacks by cause: none'] : causes.map(([cause, n]) => `  missing by cause: ${cause} ${n}`)),
    );
  }
  for (const p of result.problems) lines.push(`problem: ${p}`);
  return lines.join('\n');
}

/** The user's mirror.yaml as a raw tree; the sandbox validates it with its local parts. */
async function readUserConfig(path: string): Promise<Record<string, any>> {
  const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new UsageError(`cannot read ${path}: ${error.code ?? String(error)}; expected a mirror.yaml`);
  });
  let tree: unknown;
  try {
    tree = parseYaml(text);
  } catch (error) {
    throw new UsageError(`${path} is not valid YAML: ${(error as Error).message}`);
  }
  if (typeof tree !== 'object' || tree === null || Array.isArray(tree)) throw new UsageError(`${path}: expected a mapping of config keys`);
  return tree as Record<string, any>;
}

/** One ack-mode verify over the whole walk: the missing callbacks by cause, for the summary. */
async function ackSummary(config: string, parityLog: string, since: string): Promise<NonNullable<DemoResult['ack']>> {
  const { runVerify } = await import('./verify.js');
  const r = await runVerify({ config, mode: 'ack', parityLog: [parityLog], since, gate: 0, minSample: 1 });
  return { mode: 'ack', callbacks: r.counts.callbacks, delivered: r.counts.matched, missing: r.counts.missing, unknown: r.ack?.unknown ?? 0, byCause: r.ack?.byCause ?? {} };
}
