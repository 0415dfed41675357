/**
 * The mirror tax: what mirroring costs the origin behind nginx. Not a test: it
 * prints figures and their ratios to a baseline measured in the same run.
 *
 *   npx tsx bench/mirror-tax.ts [--duration 10] [--connections 8] [--rate 1000] [--paced 10]
 *                                [--ship-lines 100000] [--backlog 1000000] [--ship-only] [--ship-cli sources|dist]
 *                                [--rounds 1] [--configs 'no mirror,rendered ship,...'] [--states healthy,slow,down]
 *                                [--ship-nice 10] [--ship-sched other|idle] [--ship-warmup 5] [--target-nice 0] [--parity-log-buffer 64k]
 *
 * For each nginx config (no mirror; the seed's config: variable proxy_pass, a
 * resolver, no timeouts; the rendered shadow config) and each mirror target state
 * (healthy: TLS, answers at once; slow: answers after 1.5 s; down: nothing
 * listening), wrk drives the callback location over keepalive connections and we
 * print req/s and p50/p99 latency. The origin and the target each run in a
 * process of their own; nginx runs one worker, as in FINDINGS.md fact 6.
 *
 * The ship transport (`mirror.transport: ship`) runs beside them: nginx renders no
 * mirror and `mirror ship` (the CLI, in its own process) tails the parity log and
 * sends to the same target. As its service does, one shipper runs for the whole
 * of a target state's runs, warmed by a first run that is not measured and paused
 * (SIGSTOP) while the other configs are measured. Each config is measured twice: at saturation (wrk's
 * closed loop) and at a fixed offered load (`--rate` callbacks/s, paced, open
 * loop, over keepalive connections). Then the shipper alone: its throughput to the
 * healthy TLS target against a bare undici loop, its lag at the fixed load, and its
 * peak RSS while it works through a `--backlog`-line parity log.
 */
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { setPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { execa } from 'execa';
import { createTestCa } from '../src/sandbox/testCa.js';
import { startDnsServer } from '../src/sandbox/dnsServer.js';
import { startTargetProcess, type TargetProcess } from '../test/support/targetProcess.js';
import { freePort } from '../src/os/freePort.js';
import { sandboxRawConfig } from '../src/sandbox/sandboxConfig.js';
import { trickyCallback } from '../src/sandbox/callbacks.js';
import { bizppurio } from '../src/vendors/bizppurio.js';
import { validateConfig } from '../src/config/validate.js';
import { renderNginx, type RenderedNginx } from '../src/render/nginxConfig.js';
import { loadTemplates } from '../src/render/templates.js';
import { writeHarness } from '../src/nginx/harness.js';
import { startNginx } from '../src/nginx/nginxProcess.js';
import { findNginx } from '../src/nginx/nginxBinary.js';
import { shipServiceNice, shipServiceSchedulingPolicy } from '../src/ship/shipUnit.js';
import { shipEnvironment } from '../src/ship/shipHeap.js';
import { bareSendRate, LineCounter, logEnds, pacedLoad, shipLagP99, startShipProcess, writeBacklog, type PacedFigures, type ShipProcess } from './support/shipBench.js';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '8' },
    'slow-ms': { type: 'string', default: '1500' },
    rate: { type: 'string', default: '1000' },
    paced: { type: 'string', default: '10' },
    'paced-connections': { type: 'string', default: '32' },
    'ship-lines': { type: 'string', default: '100000' },
    backlog: { type: 'string', default: '1000000' },
    // The shipper alone, without the transports' nginx runs (its own figures, minutes sooner).
    'ship-only': { type: 'boolean', default: false },
    // Which CLI the shipper runs from: the sources through tsx, or the built dist/ (tsc -p tsconfig.build.json).
    'ship-cli': { type: 'string', default: 'sources' },
    // Each state's configs run this many times, interleaved, and the medians are
    // printed: on two shared cores one 5 s run of the same config varies by ±15%.
    rounds: { type: 'string', default: '1' },
    configs: { type: 'string', default: 'no mirror,seed config,rendered shadow,rendered ship' },
    states: { type: 'string', default: 'healthy,slow,down' },
    // The shipper's nice value beside nginx: by default the one its systemd unit sets.
    'ship-nice': { type: 'string', default: String(shipServiceNice) },
    // The shipper's scheduling policy: idle (SCHED_IDLE) or other (the default policy).
    'ship-sched': { type: 'string', default: shipServiceSchedulingPolicy },
    // Seconds of saturation through the ship render before its first measured run (the shipper's start-up, not measured).
    'ship-warmup': { type: 'string', default: '5' },
    // The local TLS target's nice value. At 0 (the issue's prototype) its CPU counts
    // against the origin when healthy; API Gateway's does not on a real host, and
    // 19 comes closer to that: it then runs on what nginx and the origin leave.
    'target-nice': { type: 'string', default: '0' },
    // parityLog.buffer for the rendered configs (e.g. 64k): nginx writes the log a buffer at a time.
    'parity-log-buffer': { type: 'string' },
  },
});
const rate = Number(values.rate);
const pacedS = Number(values.paced);
const pacedConnections = Number(values['paced-connections']);
const durationS = Number(values.duration);
const connections = Number(values.connections);
const slowMs = Number(values['slow-ms']);
const shipWarmupS = Number(values['ship-warmup']);
if (values['ship-cli'] !== 'sources' && values['ship-cli'] !== 'dist') throw new Error(`--ship-cli ${values['ship-cli']}: expected sources or dist`);
const built = values['ship-cli'] === 'dist';
if (values['ship-sched'] !== 'idle' && values['ship-sched'] !== 'other') throw new Error(`--ship-sched ${values['ship-sched']}: expected idle or other`);

// `parity log only`: the ship render with no shipper running, what nginx's logging alone costs.
// `ship at nice only`: the ship render with a shipper at the normal scheduling policy (nice only), beside
// `rendered ship` at --ship-sched, so the two policies are paired in one run.
const configNames = ['no mirror', 'seed config', 'rendered shadow', 'parity log only', 'rendered ship', 'ship at nice only'] as const;
const shipConfigs: Partial<Record<ConfigName, boolean>> = { 'rendered ship': values['ship-sched'] === 'idle', 'ship at nice only': false };
type ConfigName = (typeof configNames)[number];
const rounds = Number(values.rounds);
const chosenConfigs = values.configs.split(',').map((c) => c.trim());
for (const c of chosenConfigs) if (!(configNames as readonly string[]).includes(c)) throw new Error(`--configs: ${c}? expected some of ${configNames.join(', ')}`);
// The baseline is always measured: every ratio is to it.
const runConfigs = configNames.filter((c) => c === 'no mirror' || chosenConfigs.includes(c));
const runStates = values.states.split(',').map((c) => c.trim());
for (const st of runStates) if (!['healthy', 'slow', 'down'].includes(st)) throw new Error(`--states: ${st}? expected healthy, slow or down`);
if (!(rounds >= 1)) throw new Error(`--rounds ${values.rounds}: expected a whole number >= 1`);
type TargetState = 'healthy' | 'slow' | 'down';
interface Figures {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  errors: string;
  paced?: PacedFigures;
  /** ship: callbacks the shipper had acked when the run ended. */
  shipped?: number;
  shipLag?: { p50: number; p99: number; n: number };
  /**
   * req/s over the no-mirror run of the same round: a pair measured seconds apart,
   * so drift over the minutes of a run cancels out. Over rounds, the median of the
   * rounds' ratios (each round's is in the notes); it is the table's ratio.
   */
  pairedRatio?: number;
}

const restApiId = 'a1b2c3d4e5';
const region = 'ap-northeast-2';
const gatewayHost = `${restApiId}.execute-api.${region}.amazonaws.com`;

async function main(): Promise<void> {
  if (values['ship-only']) return shipperAlone();
  const nginxPath = await findNginx();
  await execa('wrk', ['--version'], { reject: false }).then((r) => {
    if (r.failed && !`${r.stdout}${r.stderr}`.includes('wrk')) throw new Error('wrk not found: apt-get install -y wrk');
  });
  const work = await mkdtemp(join(tmpdir(), 'mirror-bench-'));
  const ca = await createTestCa([gatewayHost]);
  const dns = await startDnsServer({ [gatewayHost]: '127.0.0.1' });
  const origin = await startTargetProcess({ responseBody: '{"code":"0000"}' });
  const templates = await loadTemplates('nginx');
  const body = trickyCallback(bizppurio, 1);
  const script = join(work, 'post.lua');
  await writeFile(
    script,
    `wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = ${luaString(body)}\n`,
  );
  const results = new Map<string, Figures>();
  try {
    console.log(`mirror tax: wrk, 1 thread, ${connections} keepalive connections, ${durationS} s per run, nginx 1 worker, ${body.length}-byte Bizppurio callback, mirror ship at nice ${values['ship-nice']} (policy ${values['ship-sched']}), target at nice ${values['target-nice']}${values['parity-log-buffer'] ? `, parityLog.buffer ${values['parity-log-buffer']}` : ''}${rounds > 1 ? `, ${rounds} interleaved rounds (medians)` : ''}`);
    for (const state of runStates as TargetState[]) {
      const target = state === 'down' ? undefined : await startTargetProcess({ tls: { cert: ca.cert, key: ca.key }, ...(state === 'slow' ? { delayMs: slowMs } : {}) });
      if (target && Number(values['target-nice']) !== 0) await reniceThreads(target.pid, Number(values['target-nice']));
      const targetPort = target?.port ?? (await freePort());
      const runs = new Map<ConfigName, Figures[]>();
      // The ship render, its parity log where the long-running shipper reads it.
      const shipRender = (parityLog: string) => (_prefix: string) => renderedShadow(origin.port, targetPort, dns.address, ca.caPath, parityLog, templates, 'ship');
      const shipServices = new Map<ConfigName, ShipService>();
      try {
        for (const [name, schedIdle] of Object.entries(shipConfigs) as [ConfigName, boolean][]) {
          if (!runConfigs.includes(name)) continue;
          // One shipper per config and target state for the whole run, as its service
          // runs: warm (compiled code, open connections), paused between its own runs.
          // A shipper started for each run of a few seconds spent them compiling and
          // opening connections: with the target slow, 8% of a core in its first 6 s
          // against 2 to 3% from then on (bench/scratch, 10,000 lines/s logged, 43/s answered).
          const dir = join(work, `ship-${state}-${shipServices.size}`);
          await mkdir(dir);
          const parityLog = join(dir, 'parity.log');
          await writeFile(parityLog, '');
          const shipper = await startShipProcess({
            dir,
            originPort: origin.port,
            targetPort,
            caPath: ca.caPath,
            resolver: dns.address,
            parityLogPath: parityLog,
            built,
            // As the service runs it (src/ship/shipUnit.ts): its environment, and below nginx and the origin.
            environment: shipEnvironment(256),
            nice: Number(values['ship-nice']),
            schedIdle,
            // Longer than the pauses between its runs: a pause must not time out the attempts on the wire.
            requestTimeout: '120s',
          });
          const service = { process: shipper, parityLog, lines: new LineCounter(parityLog), drain: state === 'healthy' };
          shipServices.set(name, service);
          shipper.pause();
          // Its first run, not measured: the shipper's start-up (compiling, connecting) is not what the origin pays in service.
          await measure(nginxPath, work, script, body, shipRender(parityLog), service, shipWarmupS);
        }
        for (let round = 0; round < rounds; round++) {
          // The baseline again for each target state and round, beside its configs:
          // on a machine shared with other work, a baseline minutes apart is another
          // machine. Every other round runs the configs in reverse order (A B B A), so a
          // drift during the round does not always favour the same side of a pair.
          const order = round % 2 === 0 ? runConfigs : [...runConfigs].reverse();
          const measured = new Map<ConfigName, Figures>();
          for (const name of order) {
            if (name === 'no mirror') {
              measured.set(name, await measure(nginxPath, work, script, body, (prefix) => noMirror(origin.port, prefix)));
              continue;
            }
            const render = (prefix: string): RenderedNginx =>
              name === 'seed config'
                ? seedConfig(origin.port, targetPort, dns.address)
                : renderedShadow(origin.port, targetPort, dns.address, ca.caPath, `${prefix}/logs/parity.log`, templates, name === 'rendered shadow' ? 'nginx' : 'ship');
            const before = (await target?.count()) ?? 0;
            const shipService = shipServices.get(name);
            const figures = shipService
              ? await measure(nginxPath, work, script, body, shipRender(shipService.parityLog), shipService)
              : await measure(nginxPath, work, script, body, render);
            // Includes the 1 s warm-up: how many mirrored copies reached the target.
            if (target && name !== 'parity log only') figures.errors += ` target got ${(await target.count()) - before} mirrors`;
            measured.set(name, figures);
          }
          const roundBase = measured.get('no mirror')!;
          for (const name of runConfigs) {
            const figures = measured.get(name)!;
            if (name !== 'no mirror') figures.pairedRatio = figures.rps / roundBase.rps;
            push(runs, name, figures);
          }
        }
        for (const [name, list] of runs) results.set(`${name}|${state}`, median(list));
      } finally {
        for (const service of shipServices.values()) await service.process.stop();
        await target?.stop();
      }
    }
  } finally {
    await origin.stop();
    await dns.stop();
    await ca.remove();
    await rm(work, { recursive: true, force: true });
  }
  printTable(results);
  // --ship-lines 0: the transports only.
  if (Number(values['ship-lines']) > 0) await shipperAlone();
}

/** Every thread of a running process (on Linux a nice value is per thread, setpriority(2)); threads started later inherit it. */
async function reniceThreads(pid: number, nice: number): Promise<void> {
  for (const tid of await readdir(`/proc/${pid}/task`)) setPriority(Number(tid), nice);
}

function push(runs: Map<ConfigName, Figures[]>, name: ConfigName, figures: Figures): void {
  runs.set(name, [...(runs.get(name) ?? []), figures]);
}

/** The run with the median req/s (its other figures with it), the req/s of every round in its notes. */
function median(list: Figures[]): Figures {
  if (list.length === 1) return list[0]!;
  const sorted = [...list].sort((a, b) => a.rps - b.rps);
  const mid = sorted[Math.floor(sorted.length / 2)]!;
  const pacedP99 = list.map((f) => f.paced?.p99Ms ?? NaN).sort((a, b) => a - b);
  const paired = list.flatMap((f) => (f.pairedRatio === undefined ? [] : [f.pairedRatio]));
  return {
    ...mid,
    paced: mid.paced ? { ...mid.paced, p99Ms: pacedP99[Math.floor(pacedP99.length / 2)]! } : undefined,
    errors: [
      mid.errors.trim(),
      `rounds req/s ${list.map((f) => f.rps.toFixed(0)).join(', ')}`,
      list.some((f) => f.paced) ? `rounds paced p99 ms ${list.map((f) => (f.paced?.p99Ms ?? NaN).toFixed(1)).join(', ')}` : '',
      paired.length ? `paired ratios ${paired.map((r) => r.toFixed(2)).join(', ')}` : '',
    ].filter(Boolean).join('; '),
    ...(paired.length ? { pairedRatio: [...paired].sort((a, b) => a - b)[Math.floor(paired.length / 2)]! } : {}),
  };
}

/** The shipper of a target state's ship runs, running for the whole run (paused between its own runs). */
interface ShipService {
  process: ShipProcess;
  parityLog: string;
  lines: LineCounter;
  /** Wait after each run until it has sent the run's callbacks (a healthy target: the next run starts with no backlog). */
  drain: boolean;
}

async function measure(
  nginxPath: string,
  work: string,
  script: string,
  body: string,
  render: (prefix: string) => RenderedNginx,
  shipper?: ShipService,
  runS = durationS,
): Promise<Figures> {
  const port = await freePort();
  const harness = await writeHarness({ listen: `127.0.0.1:${port}`, parentDir: work, render, errorLogLevel: 'error' });
  const nginx = await startNginx(nginxPath, harness);
  try {
    shipper?.process.resume();
    const ackedBefore = (await shipper?.process.acked()) ?? 0;
    const url = `http://127.0.0.1:${port}/api/kakao/result`;
    await execa('wrk', ['-t1', `-c${connections}`, '-d1s', '-s', script, url], { reject: false }); // warm-up
    const run = await execa('wrk', ['-t1', `-c${connections}`, `-d${runS}s`, '--timeout', '10s', '--latency', '-s', script, url], { reject: false });
    const figures = parseWrk(run.stdout);
    // --paced 0: saturation only.
    if (pacedS <= 0) return figures;
    // The same config at a fixed offered load, after wrk's burst has drained.
    if (shipper) await waitForShipper(shipper, 15_000);
    const logsBefore = shipper ? await logEnds(shipper.parityLog, shipper.process.ackLog) : undefined;
    figures.paced = await pacedLoad(url, body, rate, pacedS, pacedConnections);
    if (shipper) {
      await waitForShipper(shipper, 10_000);
      figures.shipped = (await shipper.process.acked()) - ackedBefore;
      // Lag of the callbacks offered at the fixed load only (not wrk's burst before them).
      figures.shipLag = await shipLagP99(shipper.parityLog, shipper.process.ackLog, logsBefore!);
    }
    return figures;
  } finally {
    await nginx.stop();
    await harness.remove();
    if (shipper) {
      // With a healthy target, what this run logged is sent before the next run
      // starts (it runs at saturation, so it always ends with a backlog); a slow or
      // down target keeps its backlog, as it would in service.
      if (shipper.drain) await waitForShipper(shipper, 120_000);
      shipper.process.pause();
    }
  }
}

/** Gives the shipper up to `ms` to catch up with the log (a slow or down target never does). */
async function waitForShipper(shipper: ShipService, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if ((await shipper.process.acked()) >= (await shipper.lines.count())) return;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The shipper alone: throughput against a bare undici loop, lag at the fixed load, peak RSS over a large backlog. */
async function shipperAlone(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'mirror-bench-ship-'));
  const shipLines = Number(values['ship-lines']);
  const backlogLines = Number(values.backlog);
  // The bench's shipper config keeps the default window (startShipProcess).
  const shipWindow = 256;
  const unitEnvironment = shipEnvironment(shipWindow);
  const shipperFlagRows: [string, Record<string, string>][] = [
    // Chosen heap sizes keep the CLI from running itself again under the unit's
    // settings (src/ship/shipHeap.ts): this is V8's default young generation, as a
    // user who sets only the old space gets.
    ['V8 defaults, old space 4 GiB', { NODE_OPTIONS: '--max-old-space-size=4096' }],
    [`the unit's environment: ${Object.entries(unitEnvironment).map(([k, v]) => `${k}="${v}"`).join(' ')}`, unitEnvironment],
  ];
  const ca = await createTestCa([gatewayHost]);
  const dns = await startDnsServer({ [gatewayHost]: '127.0.0.1' });
  const target = await startTargetProcess({ tls: { cert: ca.cert, key: ca.key } });
  try {
    const bare = await bareSendRate(gatewayHost, target.port, ca.caPem, shipLines, shipWindow);
    const dir = await mkdtemp(join(work, 'ship-alone-'));
    const parityLogPath = join(dir, 'parity.log');
    await writeBacklog(parityLogPath, shipLines);
    console.log('');
    console.log(`shipper throughput (CLI from ${built ? 'dist/' : 'the sources through tsx'}), ${shipLines.toLocaleString('en')} logged callbacks to a healthy local TLS target (window ${shipWindow}):`);
    console.log(`  bare undici loop, same target and concurrency: ${bare.toFixed(0)}/s (1.00x)`);
    // With V8's defaults and with the unit's environment, each from the log's start.
    for (const [label, environment] of shipperFlagRows) {
      const runDir = await mkdtemp(join(dir, 'run-'));
      const shipper = await startShipProcess({ dir: runDir, originPort: 1, targetPort: target.port, caPath: ca.caPath, resolver: dns.address, parityLogPath, built, environment });
      // Timed from the first 1,000 acks (the process's start-up is not shipping) to the last.
      const warm = Math.min(1000, shipLines / 10);
      while ((await shipper.acked()) < warm) await new Promise((r) => setTimeout(r, 20));
      const started = performance.now();
      const fromAcks = await shipper.acked();
      while ((await shipper.acked()) < shipLines) await new Promise((r) => setTimeout(r, 100));
      const seconds = (performance.now() - started) / 1000;
      const cpuSeconds = await shipper.cpuSeconds();
      await shipper.stop();
      const shipRate = (shipLines - fromAcks) / seconds;
      console.log(
        `  mirror ship (${label}): ${shipRate.toFixed(0)}/s (${(shipRate / bare).toFixed(2)}x), ` +
          `its CPU ${((cpuSeconds * 1e6) / shipLines).toFixed(0)} us per callback (user + system, start-up included)`,
      );
    }

    const big = await mkdtemp(join(work, 'ship-backlog-'));
    const bigLog = join(big, 'parity.log');
    await writeBacklog(bigLog, backlogLines);
    // Twice over the same log: V8's defaults, then with exactly the node flags the
    // systemd unit sets (`mirror render ship-unit`). At full speed V8 grows the new
    // space to its maximum (two 64 MiB semi-spaces on this machine) unless capped.
    for (const [label, environment] of shipperFlagRows) {
      const dir = await mkdtemp(join(big, 'run-'));
      const bigShipper = await startShipProcess({ dir, originPort: 1, targetPort: target.port, caPath: ca.caPath, resolver: dns.address, parityLogPath: bigLog, built, environment });
      const started = Date.now();
      const until = started + 30_000;
      let done = 0;
      while (Date.now() < until && (done = await bigShipper.acked()) < backlogLines) await new Promise((r) => setTimeout(r, 500));
      const seconds = (Date.now() - started) / 1000;
      const rss = await bigShipper.peakRssMiB();
      const now = await bigShipper.rssNowMiB();
      const cpuSeconds = await bigShipper.cpuSeconds();
      await bigShipper.stop();
      console.log(
        `shipper peak RSS with a ${backlogLines.toLocaleString('en')}-line backlog (${label}): ${rss.toFixed(0)} MiB ` +
          `(at the end ${now.anon.toFixed(0)} MiB anonymous + ${now.file.toFixed(0)} MiB file-backed; ${done.toLocaleString('en')} lines shipped in ${seconds.toFixed(0)} s from start, ${(done / seconds).toFixed(0)}/s, ${((cpuSeconds * 1e6) / Math.max(1, done)).toFixed(0)} us CPU each)`,
      );
    }
  } finally {
    await rm(work, { recursive: true, force: true });
    await target.stop();
    await dns.stop();
    await ca.remove();
  }
}

function parseWrk(out: string): Figures {
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN);
  const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? NaN);
  const latency = (pct: string) => {
    const m = new RegExp(`^\\s+${pct}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, 'm').exec(out);
    if (!m) return NaN;
    const scale = { us: 0.001, ms: 1, s: 1000, m: 60_000 }[m[2] as 'us' | 'ms' | 's' | 'm'];
    return Number(m[1]) * scale;
  };
  const errors = [/Socket errors: .*/.exec(out)?.[0], /Non-2xx or 3xx responses: \d+/.exec(out)?.[0]].filter(Boolean).join('; ');
  return { rps, p50Ms: latency('50'), p99Ms: latency('99'), requests, errors };
}

function noMirror(originPort: number, _prefix: string): RenderedNginx {
  return files(
    '# no mirror\n',
    `location = /api/kakao/result {\n    proxy_pass http://127.0.0.1:${originPort};\n}\n`,
  );
}

/** The seed's config, as its migration notes had it: variable proxy_pass, a resolver, no timeouts. */
function seedConfig(originPort: number, targetPort: number, resolver: string): RenderedNginx {
  return files(
    '# seed\n',
    [
      'location = /api/kakao/result {',
      '    mirror /mirror_api_gw;',
      '    mirror_request_body on;',
      `    proxy_pass http://127.0.0.1:${originPort};`,
      '}',
      'location = /mirror_api_gw {',
      '    internal;',
      `    resolver ${resolver};`,
      `    set $api_gw_host "${gatewayHost}";`,
      `    proxy_pass https://$api_gw_host:${targetPort}/dev/kakao-at-result;`,
      '    proxy_ssl_server_name on;',
      '}',
      '',
    ].join('\n'),
  );
}

function renderedShadow(
  originPort: number,
  targetPort: number,
  resolver: string,
  caPath: string,
  parityLogPath: string,
  templates: Awaited<ReturnType<typeof loadTemplates>>,
  transport: 'nginx' | 'ship' = 'nginx',
): RenderedNginx {
  const raw = sandboxRawConfig({
    restApiId,
    region,
    customDomain: 'callbacks.example.com',
    originUrl: `http://127.0.0.1:${originPort}`,
    targetPort,
    trustedCertificate: caPath,
    resolverAddress: resolver,
    resolverTimeout: '5s',
    parityLogPath,
    sample: 100,
    phase: 'shadow',
  });
  raw.mirror.transport = transport;
  if (values['parity-log-buffer']) raw.parityLog.buffer = values['parity-log-buffer'];
  const result = validateConfig(raw, 'shadow');
  if (!result.ok) throw new Error(JSON.stringify(result.issues));
  return renderNginx(result.config, 'shadow', templates);
}

function files(http: string, server: string): RenderedNginx {
  return {
    phase: 'shadow',
    files: [
      { name: 'bench.http.conf', context: 'http', contents: http },
      { name: 'bench.server.conf', context: 'server', contents: server },
    ],
  };
}

function luaString(text: string): string {
  return `"${[...Buffer.from(text)].map((b) => `\\${b}`).join('')}"`;
}

function printTable(results: Map<string, Figures>): void {
  const fmt = (ms: number) => (Number.isFinite(ms) ? (ms >= 100 ? ms.toFixed(0) : ms.toFixed(2)) : 'n/a');
  const ratio = (v: number, b: number) => (Number.isFinite(v) && b > 0 ? `${(v / b).toFixed(v / b < 0.1 ? 4 : 2)}x` : 'n/a');
  const paced = (f: Figures) => f.paced ?? { servedPerS: NaN, p99Ms: NaN, timedOut: NaN, served: NaN, offered: NaN, p50Ms: NaN };
  const rows = [['config', 'target', 'req/s', 'p50 ms', 'p99 ms', 'req/s ratio', 'p99 ratio', `served/s at ${rate}/s`, 'paced p99 ms', 'paced p99 ratio', 'failed', 'notes']];
  for (const [key, f] of results) {
    const [name, state] = key.split('|');
    // Each ratio is to the no-mirror run of the same target state.
    const base = results.get(`no mirror|${state}`)!;
    const p = paced(f);
    const bp = paced(base);
    const notes = [
      f.errors.trim(),
      f.shipped !== undefined ? `shipper acked ${f.shipped}` : '',
      f.shipLag && f.shipLag.n > 0 ? `ship lag at ${rate}/s p50 ${f.shipLag.p50.toFixed(0)} ms, p99 ${f.shipLag.p99.toFixed(0)} ms (${f.shipLag.n})` : '',
    ].filter(Boolean).join('; ');
    // Each round's ratio is to its own round's baseline; over rounds, their median.
    rows.push([
      name!, state!, f.rps.toFixed(f.rps < 100 ? 1 : 0), fmt(f.p50Ms), fmt(f.p99Ms), f.pairedRatio !== undefined ? ratio(f.pairedRatio, 1) : ratio(f.rps, base.rps), ratio(f.p99Ms, base.p99Ms),
      p.servedPerS.toFixed(0), fmt(p.p99Ms), ratio(p.p99Ms, bp.p99Ms), String(p.timedOut), notes,
    ]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const [i, row] of rows.entries()) {
    console.log(`| ${row.map((cell, j) => cell.padEnd(widths[j]!)).join(' | ')} |`);
    if (i === 0) console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  }
}

await main();
