/**
 * `mirror verify --watch` in this process against the SQS emulator and real files:
 * exact counters on /metrics, the parity gauge, the lag histogram, the phase, no
 * request id or body text in any sample, memory back to nothing undecided, and the
 * terminal and log-line views.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { randomBytes } from 'node:crypto';
import { appendFile, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { startFauxqs, type Fauxqs } from '../../src/sqs/fauxqs.js';
import { waitFor } from '../../src/os/childProcess.js';
import { trickyCallback } from '../../src/sandbox/callbacks.js';
import { bizppurio } from '../../src/vendors/bizppurio.js';
import { formatWatchText, liveView, logLine, RecentMissing, runWatch, type WatchOptions, type WatchResult } from '../../src/commands/watch.js';
import { exampleConfig, withValue, writeConfigFile } from '../support/config.js';
import { parityLine } from '../support/parityLog.js';
import { initialState, writeState as writeCutoverState } from '../../src/cutover/state.js';

const newRequestId = (): string => randomBytes(16).toString('hex');

async function sendMessages(sqs: SQSClient, queueUrl: string, messages: { requestId?: string; body: string }[]): Promise<void> {
  for (let start = 0; start < messages.length; start += 10) {
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: messages.slice(start, start + 10).map((m, i) => ({
          Id: String(start + i),
          MessageBody: m.body,
          ...(m.requestId ? { MessageAttributes: { 'mirror-request-id': { DataType: 'String', StringValue: m.requestId } } } : {}),
        })),
      }),
    );
  }
}

/** A fresh queue and a config that points the watch at it. */
async function watchScenario(fauxqs: Fauxqs, name: string, verify: { grace: string; gate?: number; minSample?: number }) {
  const queueUrl = await fauxqs.createQueue(name);
  const dir = await mkdtemp(join(tmpdir(), 'mirror-watch-'));
  const raw = withValue(
    withValue(exampleConfig(), 'sqs', { queueUrl: `https://sqs.ap-northeast-2.amazonaws.com/000000000000/${name}`, endpoint: fauxqs.endpoint }),
    'verify',
    { gate: 0.999, minSample: 5, ...verify },
  );
  return { queueUrl, dir, config: await writeConfigFile(raw, dir), log: join(dir, 'parity.log') };
}

interface RunningWatch {
  metricsUrl: string;
  /** Aborts the watch and waits for it to close everything. */
  stop(): Promise<WatchResult>;
}

/** Starts runWatch in this process on a free port; resolves once /metrics listens. */
async function startWatch(options: Omit<WatchOptions, 'signal' | 'onListening' | 'listen'>): Promise<RunningWatch> {
  const controller = new AbortController();
  let listening!: (address: { host: string; port: number }) => void;
  const address = new Promise<{ host: string; port: number }>((resolve) => (listening = resolve));
  const result = runWatch({ intervalMs: 200, waitSeconds: 1, receivers: 2, print: () => undefined, ...options, listen: '127.0.0.1:0', signal: controller.signal, onListening: listening });
  const ended = result.then(
    () => Promise.reject(new Error('the watch ended before it listened')),
    (error: unknown) => Promise.reject(error),
  );
  const { host, port } = await Promise.race([address, ended]);
  ended.catch(() => undefined);
  return {
    metricsUrl: `http://${host}:${port}/metrics`,
    stop: async () => {
      controller.abort();
      return result;
    },
  };
}

async function scrape(url: string): Promise<string> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response.text();
}

/** Every sample in a text exposition, by its series (`name{labels}`). */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1).replace(/^Nan$/, 'NaN')));
  }
  return out;
}

/** Every string value of a JSON body that is long enough to be telling (phone numbers, names, message ids). */
function bodyValues(body: string): string[] {
  const parsed = JSON.parse(body) as Record<string, unknown>;
  return Object.values(parsed).flatMap((v) => (typeof v === 'string' && v.length >= 5 ? [v] : []));
}

let fauxqs: Fauxqs;
let sqs: SQSClient;
const running: RunningWatch[] = [];
const dirs: string[] = [];
beforeAll(async () => {
  // The default credential chain, fed from the environment as a user's shell would.
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'fauxqs');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'fauxqs');
  fauxqs = await startFauxqs();
  sqs = fauxqs.client();
});
afterEach(async () => {
  // Pass or fail, no watch outlives its test.
  for (const watch of running.splice(0)) await watch.stop().catch(() => undefined);
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});
afterAll(async () => {
  vi.unstubAllEnvs();
  sqs?.destroy();
  await fauxqs?.stop();
});

async function watching(options: Parameters<typeof startWatch>[0]): Promise<RunningWatch> {
  const watch = await startWatch(options);
  running.push(watch);
  return watch;
}

const bodies = Array.from({ length: 30 }, (_, i) => trickyCallback(bizppurio, i));

describe('mirror verify --watch', () => {
  it('counts matched, missing, unexpected, duplicates, mismatches, rejected and unparseable exactly, across a rename rotation, and drops what it judged', async () => {
    const s = await watchScenario(fauxqs, 'watch-counts', { grace: '2s' });
    dirs.push(s.dir);
    // Already in the log before the watch starts: it follows from the end, so this is not judged.
    await writeFile(s.log, `${parityLine(newRequestId(), bodies[29]!, { msec: Date.now() - 1000 })}\n`);
    const watch = await watching({ config: s.config, parityLog: [s.log] });

    const good = Array.from({ length: 20 }, () => newRequestId());
    const [mismatched, missing, unexpected, rejected, unmirrored] = [newRequestId(), newRequestId(), newRequestId(), newRequestId(), newRequestId()];
    const lines = [
      ...good.map((id, i) => parityLine(id, bodies[i]!)),
      parityLine(mismatched, bodies[20]!),
      parityLine(missing, bodies[21]!),
      // 413 before any upstream: nginx rejected it, the mirror never ran (FINDINGS.md).
      parityLine(rejected, bodies[22]!, { status: 413, upstreamStatus: '' }),
      // Not sampled for the mirror: not API Gateway's to deliver.
      parityLine(unmirrored, bodies[23]!, { apigw: '0' }),
      '{"v":1,"request_id":"not hex"}',
    ];
    // logrotate renames the log half way; nginx writes on to the renamed file until it reopens, then to a new one.
    await appendFile(s.log, `${lines.slice(0, 10).join('\n')}\n`);
    await rename(s.log, `${s.log}.1`);
    await appendFile(`${s.log}.1`, `${lines.slice(10, 15).join('\n')}\n`);
    await writeFile(s.log, `${lines.slice(15).join('\n')}\n${parityLine(newRequestId(), bodies[24]!).slice(0, 40)}`);
    await sendMessages(sqs, s.queueUrl, [
      ...good.map((id, i) => ({ requestId: id, body: bodies[i]! })),
      { requestId: good[1]!, body: bodies[1]! },
      { requestId: mismatched, body: bodies[20]!.replace('KAT', 'SMS') },
      { requestId: unexpected, body: bodies[25]! },
    ]);

    let text = '';
    const want = { matched: 21, missing: 1, unexpected: 1, duplicates: 1, undecided: 0 };
    await waitFor(
      async () => {
        text = await scrape(watch.metricsUrl);
        const m = samples(text);
        return (
          m.get('mirror_matched_total') === want.matched &&
          m.get('mirror_missing_total') === want.missing &&
          m.get('mirror_unexpected_total') === want.unexpected &&
          m.get('mirror_duplicates_total') === want.duplicates &&
          m.get('mirror_undecided_items') === want.undecided
        );
      },
      { timeoutMs: 20_000, what: 'watch metrics reaching the expected counts' },
    );
    const m = samples(text);
    expect({
      callbacks: m.get('mirror_callbacks_total'),
      matched: m.get('mirror_matched_total'),
      missing: m.get('mirror_missing_total'),
      unexpected: m.get('mirror_unexpected_total'),
      duplicates: m.get('mirror_duplicates_total'),
      bodyMismatches: m.get('mirror_body_mismatches_total'),
      nginxRejected: m.get('mirror_nginx_rejected_total'),
      unparseable: m.get('mirror_unparseable_lines_total'),
      undecided: m.get('mirror_undecided_items'),
      lagCount: m.get('mirror_delivery_lag_seconds_count'),
      lagInf: m.get('mirror_delivery_lag_seconds_bucket{le="+Inf"}'),
      phaseShadow: m.get('mirror_phase{phase="shadow"}'),
      phaseOff: m.get('mirror_phase{phase="off"}'),
      receiveErrors: [...m].filter(([k]) => k.startsWith('mirror_sqs_receive_errors_total')).reduce((sum, [, v]) => sum + v, 0),
    }).toEqual({
      callbacks: 22, matched: 21, missing: 1, unexpected: 1, duplicates: 1, bodyMismatches: 1, nginxRejected: 1, unparseable: 1,
      undecided: 0, lagCount: 21, lagInf: 21, phaseShadow: 1, phaseOff: 0, receiveErrors: 0,
    });
    expect(m.get('mirror_parity_ratio')).toBeCloseTo(21 / 22, 10);
    // Lag is real: SQS SentTimestamp after nginx's msec, well under the grace.
    expect(m.get('mirror_delivery_lag_seconds_sum')).toBeGreaterThanOrEqual(0);
    expect(m.get('mirror_delivery_lag_seconds_sum')! / 21).toBeLessThan(2);

    // No label names anything but a phase, an error kind, a missing callback's cause (a fixed list) or a bucket; no sample carries a request id or body text.
    const labelNames = new Set([...m.keys()].flatMap((series) => [...series.matchAll(/([a-z_]+)="/g)].map((x) => x[1]!)));
    expect([...labelNames].sort()).toEqual(['cause', 'kind', 'le', 'phase']);
    for (const id of [...good, mismatched, missing, unexpected, rejected, unmirrored]) expect(text).not.toContain(id);
    for (const value of bodies.flatMap(bodyValues)) expect(text).not.toContain(value);
    expect(text).not.toMatch(/010\d{8}/);

    const result = await watch.stop();
    expect(result.counts).toMatchObject({ callbacks: 22, matched: 21, missing: 1, unexpected: 1, duplicates: 1, bodyMismatches: 1, nginxRejected: 1, notMirrored: 1, unparseable: 1, pending: 0 });
    expect(result.undecided).toBe(0);
    expect(result.rotations).toBe(1);
    // Parity below the gate and a body mismatch: the gate fails.
    expect(result.exitCode).toBe(1);
    expect(formatWatchText(result).split('\n')[0]).toBe('FAIL: parity 0.9545 over everything the watch judged (22 callbacks, ' + result.ticks + ' intervals)');
  });

  it('on a terminal, redraws a live view with counts, parity, lag and the last missing ids', async () => {
    const s = await watchScenario(fauxqs, 'watch-terminal', { grace: '1s' });
    dirs.push(s.dir);
    const printed: { text: string; redraw: boolean }[] = [];
    const watch = await watching({ config: s.config, parityLog: [s.log], terminal: true, print: (text, redraw) => printed.push({ text, redraw }) });
    const [arrived, lost] = [newRequestId(), newRequestId()];
    await appendFile(s.log, `${parityLine(arrived, bodies[1]!)}\n${parityLine(lost, bodies[2]!)}\n`);
    await sendMessages(sqs, s.queueUrl, [{ requestId: arrived, body: bodies[1]! }]);
    await waitFor(() => printed.some((p) => p.text.includes(`last missing: ${lost}`)), { timeoutMs: 15_000, what: 'the live view naming the missing id' });
    await watch.stop();
    expect(printed.every((p) => p.redraw)).toBe(true);
    const last = printed.at(-1)!.text.split('\n');
    expect(last).toHaveLength(5);
    expect(last[0]).toBe('mirror verify --watch    parity 0.5');
    expect(last[1]).toBe('  callbacks 2  matched 1  missing 1  pending 0  undecided 0');
    expect(last[3]).toMatch(/^  delivery lag ms: p50 -?\d+  p95 -?\d+  p99 -?\d+  max -?\d+$/);
    expect(last[4]).toMatch(new RegExp(`^  last missing: ${lost} \\(\\d{4}-\\d\\d-\\d\\dT`));
    for (const value of bodies.flatMap(bodyValues)) expect(printed.map((p) => p.text).join('\n')).not.toContain(value);
  });

  it('without a terminal, logs one line per interval and names each missing id once, in the line after it became missing', async () => {
    const s = await watchScenario(fauxqs, 'watch-lines', { grace: '1s' });
    dirs.push(s.dir);
    const printed: { text: string; redraw: boolean }[] = [];
    const watch = await watching({ config: s.config, parityLog: [s.log], terminal: false, print: (text, redraw) => printed.push({ text, redraw }) });
    const [arrived, lost] = [newRequestId(), newRequestId()];
    await appendFile(s.log, `${parityLine(arrived, bodies[3]!)}\n${parityLine(lost, bodies[4]!)}\n`);
    await sendMessages(sqs, s.queueUrl, [{ requestId: arrived, body: bodies[3]! }]);
    await waitFor(() => printed.some((p) => p.text.includes(`new_missing ${lost}`)), { timeoutMs: 15_000, what: 'a log line naming the missing id' });
    const result = await watch.stop();
    expect(printed.every((p) => !p.redraw && !p.text.includes('\n'))).toBe(true);
    expect(printed.every((p) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z parity /.test(p.text))).toBe(true);
    expect(printed.filter((p) => p.text.includes(lost))).toHaveLength(1);
    expect(printed.at(-1)!.text).toMatch(/ parity 0\.5 callbacks 2 matched 1 missing 1 pending 0 /);
    expect(result.ticks).toBe(printed.length);
    for (const value of bodies.flatMap(bodyValues)) expect(printed.map((p) => p.text).join('\n')).not.toContain(value);
  });

  it('stops with a missing-dependency error (exit 3) when SQS is unreachable, closing its metrics port', async () => {
    const s = await watchScenario(fauxqs, 'watch-unreachable', { grace: '1s' });
    dirs.push(s.dir);
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const deadPort = (closed.address() as { port: number }).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const raw = withValue(
      withValue(exampleConfig(), 'sqs', { queueUrl: 'https://sqs.ap-northeast-2.amazonaws.com/000000000000/watch-unreachable', endpoint: `http://127.0.0.1:${deadPort}` }),
      'verify',
      { grace: '1s', gate: 0.999, minSample: 5 },
    );
    const config = await writeConfigFile(raw, s.dir);
    let metricsUrl = '';
    const error = await runWatch({ config, parityLog: [s.log], listen: '127.0.0.1:0', intervalMs: 100, receivers: 1, print: () => undefined, onListening: ({ host, port }) => (metricsUrl = `http://${host}:${port}/metrics`) }).then(
      () => undefined,
      (e: unknown) => e as Error & { exitCode?: number },
    );
    expect(error?.message).toMatch(/cannot reach SQS at http:\/\/127\.0\.0\.1:\d+/);
    expect(error?.exitCode).toBe(3);
    await expect(fetch(metricsUrl)).rejects.toThrow();
  });

  it('the views name the most recent missing ids, however many came before, and each new one once', () => {
    const recent = new RecentMissing(3, 2);
    const missing = (i: number) => ({ requestId: `id${i}`, timeMs: 0, source: { file: 'f', line: i + 1 } });
    for (let i = 0; i < 1500; i++) recent.add(missing(i));
    const counts = { callbacks: 3000, matched: 1500, missing: 1500, pending: 0, unexpected: 0, duplicates: 0, bodyMismatches: 0, bodyNotChecked: 0, nginxRejected: 0, notMirrored: 0, unjoinable: 0, probes: 0, outOfWindow: 0 };
    // The ledger's own list stops at its first 1000; the views do not depend on it.
    const j = { counts, parity: 0.5, missing: Array.from({ length: 1000 }, (_, i) => missing(i)), mismatches: [], unexpected: [], lagMs: { count: 5, p50: 1, p95: 2, p99: 3, max: 4 } };
    expect(liveView(j, 0, 0, recent.lastOnes()).split('\n').at(-1)).toBe('  last missing: id1497 (1970-01-01T00:00:00.000Z), id1498 (1970-01-01T00:00:00.000Z), id1499 (1970-01-01T00:00:00.000Z)');
    expect(logLine(j, recent.takeFresh(), 0)).toMatch(/ new_missing id0,id1 \(\+1498 more\)$/);
    expect(logLine(j, recent.takeFresh(), 0)).not.toMatch(/new_missing/);
    recent.add(missing(2000));
    expect(logLine(j, recent.takeFresh(), 0)).toMatch(/ new_missing id2000$/);
  });

  it('refuses a bad --listen and a port in use with a usage error naming the flag', async () => {
    const s = await watchScenario(fauxqs, 'watch-listen', { grace: '1s' });
    dirs.push(s.dir);
    await expect(runWatch({ config: s.config, parityLog: [s.log], listen: 'everywhere' })).rejects.toThrow(/--listen everywhere: expected host:port/);
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as { port: number }).port;
    try {
      await expect(runWatch({ config: s.config, parityLog: [s.log], listen: `127.0.0.1:${port}` })).rejects.toThrow(/the port is in use/);
    } finally {
      await new Promise<void>((resolve) => taken.close(() => resolve()));
    }
    await expect(runWatch({ config: s.config, parityLog: ['-'] })).rejects.toThrow(/stdin/);
  });

  it('rides out an SQS outage after it started: receive errors are counted as network, and matching resumes when SQS is back', async () => {
    // Its own emulator, so stopping it harms no other test.
    const own = await startFauxqs();
    let revived: Fauxqs | undefined;
    try {
      // A grace longer than the receivers' back-off after the outage (0.5 s doubling): with 1s the
      // second callback could be judged missing before the revived queue was read again, on a loaded machine.
      const { queueUrl, dir, config, log } = await watchScenario(own, 'outage', { grace: '45s' });
      dirs.push(dir);
      await writeFile(log, '');
      const watch = await watching({ config, parityLog: [log] });
      const first = { requestId: newRequestId(), body: bodies[0]! };
      await appendFile(log, `${parityLine(first.requestId, first.body)}\n`);
      const ownSqs = own.client();
      await sendMessages(ownSqs, queueUrl, [first]);
      ownSqs.destroy();
      await waitFor(async () => samples(await scrape(watch.metricsUrl)).get('mirror_matched_total') === 1, { timeoutMs: 15_000, what: 'the first match' });

      await own.stop();
      await waitFor(async () => (samples(await scrape(watch.metricsUrl)).get('mirror_sqs_receive_errors_total{kind="network"}') ?? 0) > 0, { timeoutMs: 20_000, what: 'a network receive error' });

      // SQS comes back on the same address (an emulator forgets its queues: create it again).
      revived = await startFauxqs({ port: own.port });
      await revived.createQueue('outage');
      const second = { requestId: newRequestId(), body: bodies[1]! };
      await appendFile(log, `${parityLine(second.requestId, second.body)}\n`);
      const revivedSqs = revived.client();
      await sendMessages(revivedSqs, queueUrl, [second]);
      revivedSqs.destroy();
      await waitFor(async () => samples(await scrape(watch.metricsUrl)).get('mirror_matched_total') === 2, { timeoutMs: 60_000, what: 'the match after the outage' });
      const result = await watch.stop();
      expect(result.counts.matched).toBe(2);
      expect(result.counts.missing).toBe(0);
    } finally {
      await own.stop();
      await revived?.stop();
    }
  }, 120_000);

  it('the phase gauge follows the cutover state file', async () => {
    const { dir, config, log } = await watchScenario(fauxqs, 'phase-follow', { grace: '1s' });
    dirs.push(dir);
    await writeFile(log, '');
    const statePath = join(dir, 'state', 'state.json');
    const watch = await watching({ config, parityLog: [log], cutoverState: statePath });
    // No state file yet: the config's phase (shadow).
    await waitFor(async () => samples(await scrape(watch.metricsUrl)).get('mirror_phase{phase="shadow"}') === 1, { timeoutMs: 10_000, what: 'phase shadow' });
    await writeCutoverState(statePath, initialState('primary'));
    await waitFor(async () => {
      const now = samples(await scrape(watch.metricsUrl));
      return now.get('mirror_phase{phase="primary"}') === 1 && now.get('mirror_phase{phase="shadow"}') === 0;
    }, { timeoutMs: 10_000, what: 'phase primary from the state file' });
  });
});
