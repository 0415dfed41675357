/**
 * The shipper's side of the mirror-tax benchmark: `mirror ship` run as the CLI in
 * a process of its own (from the sources, through tsx), a paced open-loop load
 * generator, and the shipper-only measurements (throughput against a bare undici
 * loop, lag, peak RSS over a large backlog).
 */
import { open, readFile, stat as statFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa, type ResultPromise } from 'execa';
import { Agent, Pool, request } from 'undici';
import { stringify } from 'yaml';
import { freePort } from '../../src/os/freePort.js';
import { sandboxRawConfig } from '../../src/sandbox/sandboxConfig.js';
import { benchCallbackBody, benchParityLine, benchRequestId } from './benchCallbacks.js';

const cli = fileURLToPath(new URL('../../src/cli.ts', import.meta.url));
const builtCli = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

export interface ShipProcess {
  pid: number;
  ackLog: string;
  acked(): Promise<number>;
  /** CPU time the process has used so far (user + system), seconds. */
  cpuSeconds(): Promise<number>;
  /** Peak resident set (VmHWM) so far, MiB. */
  peakRssMiB(): Promise<number>;
  /** Resident set now, MiB: anonymous (heaps, buffers) and file-backed (the node binary, mapped code). */
  rssNowMiB(): Promise<{ anon: number; file: number }>;
  /**
   * SIGSTOP: the process keeps its compiled code, connections and place in the log,
   * and uses no CPU until `resume` (SIGCONT). The mirror-tax benchmark keeps one
   * shipper for a whole run, as the service runs, and pauses it while other configs
   * are measured, so its work is charged to its own runs only.
   */
  pause(): void;
  resume(): void;
  stop(): Promise<void>;
}

export interface ShipConfigInput {
  dir: string;
  originPort: number;
  targetPort: number;
  caPath: string;
  resolver: string;
  parityLogPath: string;
  window?: number;
  /** Run the built dist/cli.js instead of the sources through tsx. */
  built?: boolean;
  /** Run this built cli.js instead (another build of the shipper, for an A/B in one run). */
  cliPath?: string;
  /**
   * Start it at this nice value, as systemd's Nice= does: set before exec, so every
   * thread has it. os.setPriority after the start would renice only the main
   * thread (on Linux a nice value is per thread, setpriority(2)), leaving V8's
   * collector and compiler threads at 0.
   */
  nice?: number;
  /**
   * Start it under SCHED_IDLE, as systemd's `CPUSchedulingPolicy=idle` does (chrt(1),
   * set before exec, inherited by every thread): it runs on what the other processes
   * leave, and a waking process of the normal policy preempts it at once.
   */
  schedIdle?: boolean;
  /** ship.requestTimeout (default 10s). */
  requestTimeout?: string;
  /** Environment for the shipper's process, e.g. the unit's (`shipEnvironment`: NODE_OPTIONS and malloc's arenas). */
  environment?: Record<string, string>;
}

function shipRawConfig(input: ShipConfigInput & { listen: string }): Record<string, any> {
  const raw = sandboxRawConfig({
    restApiId: 'a1b2c3d4e5',
    region: 'ap-northeast-2',
    customDomain: 'callbacks.example.com',
    originUrl: `http://127.0.0.1:${input.originPort}`,
    targetPort: input.targetPort,
    trustedCertificate: input.caPath,
    resolverAddress: input.resolver,
    resolverTimeout: '5s',
    parityLogPath: input.parityLogPath,
    sample: 100,
    phase: 'shadow',
  });
  raw.mirror.transport = 'ship';
  raw.ship = {
    checkpoint: join(input.dir, 'ship-checkpoint.json'),
    ackLog: join(input.dir, 'ship-ack.log'),
    listen: input.listen,
    window: input.window ?? 256,
    requestTimeout: input.requestTimeout ?? '10s',
    statusInterval: '1h',
  };
  return raw;
}

export async function startShipProcess(input: ShipConfigInput): Promise<ShipProcess> {
  const port = await freePort();
  const raw = shipRawConfig({ ...input, listen: `127.0.0.1:${port}` });
  const config = join(input.dir, 'ship.yaml');
  await writeFile(config, stringify(raw));
  const command = [process.execPath, ...(input.cliPath ? [input.cliPath] : input.built ? [builtCli] : ['--import', import.meta.resolve('tsx/esm'), cli]), 'ship', '--config', config];
  // nice(1) and chrt(1) exec the command: the pid is the shipper's.
  const niced = input.nice ? ['nice', '-n', String(input.nice), ...command] : command;
  const [file, ...args] = input.schedIdle ? ['chrt', '--idle', '0', ...niced] : niced;
  const child: ResultPromise = execa(file!, args, {
    // The unit's environment, NODE_OPTIONS included (node allows only some V8 flags there).
    env: input.environment ?? {},
    reject: false,
    stdin: 'ignore',
    stdout: 'ignore',
    stderr: 'ignore',
  });
  const deadline = Date.now() + 20_000;
  for (;;) {
    const up = await request(`http://127.0.0.1:${port}/metrics`).then(async (r) => (await r.body.dump(), true), () => false);
    if (up) break;
    if (Date.now() > deadline) throw new Error('mirror ship did not start serving metrics within 20 s');
    await new Promise((r) => setTimeout(r, 100));
  }
  const ackLog = raw.ship.ackLog as string;
  const ackCounter = new LineCounter(ackLog);
  return {
    pid: child.pid!,
    ackLog,
    acked: () => ackCounter.count(),
    cpuSeconds: async () => {
      // proc(5): utime and stime, fields 14 and 15, in clock ticks (100 a second on Linux).
      const stat = await readFile(`/proc/${child.pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return (Number(fields[11]) + Number(fields[12])) / 100;
    },
    peakRssMiB: async () => {
      const status = await readFile(`/proc/${child.pid}/status`, 'utf8');
      return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1]) / 1024;
    },
    rssNowMiB: async () => {
      const status = await readFile(`/proc/${child.pid}/status`, 'utf8');
      const kB = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1]) / 1024;
      return { anon: kB('RssAnon'), file: kB('RssFile') };
    },
    pause: () => {
      child.kill('SIGSTOP');
    },
    resume: () => {
      child.kill('SIGCONT');
    },
    stop: async () => {
      // A stopped process holds SIGTERM until it is continued.
      child.kill('SIGCONT');
      child.kill('SIGTERM');
      await child;
    },
  };
}

/**
 * Counts a log's lines (the ack log's, the parity log's) by reading only what was
 * appended since the last count: the benchmark polls them many times a second on
 * the cores the shipper uses, and a log is tens to hundreds of megabytes by the end
 * of a run.
 */
export class LineCounter {
  private lines = 0;
  private offset = 0;
  private readonly chunk = Buffer.allocUnsafe(1 << 16);

  constructor(private readonly path: string) {}

  async count(): Promise<number> {
    const handle = await open(this.path, 'r').catch(() => undefined);
    if (!handle) return this.lines;
    try {
      for (;;) {
        const { bytesRead } = await handle.read(this.chunk, 0, this.chunk.length, this.offset);
        if (bytesRead === 0) return this.lines;
        this.offset += bytesRead;
        const appended = this.chunk.subarray(0, bytesRead);
        for (let i = appended.indexOf(0x0a); i >= 0; i = appended.indexOf(0x0a, i + 1)) this.lines++;
      }
    } finally {
      await handle.close();
    }
  }
}

export interface PacedFigures {
  offered: number;
  served: number;
  servedPerS: number;
  p50Ms: number;
  p99Ms: number;
  timedOut: number;
}

/**
 * Open-loop load: request i is due at start + i/rate, whatever happened to the
 * ones before it, over `connections` keepalive connections; latency runs from when
 * it was due, so a stall counts in full (no coordinated omission).
 */
export async function pacedLoad(url: string, body: string, rate: number, durationS: number, connections: number, timeoutMs = 10_000): Promise<PacedFigures> {
  const target = new URL(url);
  const pool = new Pool(target.origin, { connections, pipelining: 1, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
  const total = Math.round(rate * durationS);
  const latencies: number[] = [];
  let timedOut = 0;
  const start = performance.now() + 50;
  const sends: Promise<void>[] = [];
  try {
    for (let i = 0; i < total; i++) {
      const due = start + (i * 1000) / rate;
      const wait = due - performance.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      sends.push(
        pool
          // The timeout runs from when the request was due, queueing included.
          .request({ method: 'POST', path: target.pathname, headers: { 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(Math.max(1, Math.round(due + timeoutMs - performance.now()))) })
          .then(async (res) => {
            await res.body.dump();
            if (res.statusCode === 200) latencies.push(performance.now() - due);
            else timedOut++;
          })
          .catch(() => void timedOut++),
      );
    }
    await Promise.all(sends);
  } finally {
    await pool.close();
  }
  const elapsedS = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => (latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor((latencies.length * p) / 100))]! : NaN);
  return { offered: total, served: latencies.length, servedPerS: latencies.length / elapsedS, p50Ms: pct(50), p99Ms: pct(99), timedOut };
}

/** Where each log ends now (bytes): `shipLagP99` reads only what is appended after. */
export async function logEnds(parityLogPath: string, ackLog: string): Promise<{ parityLog: number; ackLog: number }> {
  const size = (path: string) => statFile(path).then((s) => s.size, () => 0);
  return { parityLog: await size(parityLogPath), ackLog: await size(ackLog) };
}

/** The whole lines appended to `path` from byte `offset` on (a line cut at the offset, or not yet ended, is skipped). */
async function linesFrom(path: string, offset: number, encoding: BufferEncoding): Promise<string[]> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    const bytes = Buffer.alloc(Math.max(0, size - offset + 1));
    // One byte before the offset says whether the first line starts there.
    const start = Math.max(0, offset - 1);
    const { bytesRead } = await handle.read(bytes, 0, size - start, start);
    const read = bytes.subarray(0, bytesRead);
    const from = offset === 0 ? 0 : read.indexOf(0x0a) + 1;
    // Up to the last line end: a line still being written is not read.
    const to = read.lastIndexOf(0x0a) + 1;
    return from > 0 || offset === 0 ? read.subarray(from, Math.max(from, to)).toString(encoding).split('\n').filter(Boolean) : [];
  } finally {
    await handle.close();
  }
}

/**
 * Lag p99 (ms): from nginx receiving each callback (parity log) to its final answer
 * (ack log), for the callbacks logged after `from` (logEnds). Only what was appended
 * is read: the benchmark's shipper runs for a whole run, and its logs grow to
 * hundreds of megabytes.
 */
export async function shipLagP99(parityLogPath: string, ackLog: string, from: { parityLog: number; ackLog: number }): Promise<{ p50: number; p99: number; n: number }> {
  const received = new Map<string, number>();
  for (const line of await linesFrom(parityLogPath, from.parityLog, 'latin1')) {
    const f = JSON.parse(line) as { request_id: string; msec: number; request_time: number };
    received.set(f.request_id, (f.msec - f.request_time) * 1000);
  }
  const lags: number[] = [];
  for (const line of await linesFrom(ackLog, from.ackLog, 'utf8')) {
    const a = JSON.parse(line) as { request_id: string; time: string };
    const r = received.get(a.request_id);
    if (r !== undefined) lags.push(Date.parse(a.time) - r);
  }
  lags.sort((a, b) => a - b);
  return { p50: lags[Math.floor(lags.length * 0.5)] ?? NaN, p99: lags[Math.floor(lags.length * 0.99)] ?? NaN, n: lags.length };
}

/** A parity log of `n` shadow-phase callbacks, as the ship render logs them. */
export async function writeBacklog(path: string, n: number): Promise<void> {
  const handle = await open(path, 'w', 0o600);
  try {
    const now = Date.now();
    let chunk: string[] = [];
    for (let i = 0; i < n; i++) {
      const body = benchCallbackBody(i);
      const line = benchParityLine(i, now, body);
      chunk.push(`${line.slice(0, line.lastIndexOf(',"body"'))},"content_length":"${Buffer.byteLength(body)}","probe":""${line.slice(line.lastIndexOf(',"body"'))}`);
      if (chunk.length === 10_000) {
        await handle.write(`${chunk.join('\n')}\n`);
        chunk = [];
      }
    }
    if (chunk.length) await handle.write(`${chunk.join('\n')}\n`);
  } finally {
    await handle.close();
  }
}

/** The yardstick for the shipper's throughput: a bare undici loop, same TLS target, same concurrency, same bodies. */
export async function bareSendRate(host: string, port: number, ca: string, n: number, concurrency: number): Promise<number> {
  const agent = new Agent({ connect: { ca, servername: host }, connections: Math.min(concurrency, 64) });
  let next = 0;
  const start = performance.now();
  try {
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < n) {
          const i = next++;
          const res = await agent.request({
            origin: `https://127.0.0.1:${port}`,
            path: '/dev/kakao-at-result',
            method: 'POST',
            headers: { host, 'content-type': 'application/json', 'X-Mirror-Request-Id': benchRequestId(i) },
            body: benchCallbackBody(i),
          });
          await res.body.dump();
        }
      }),
    );
  } finally {
    await agent.close();
  }
  return n / ((performance.now() - start) / 1000);
}
