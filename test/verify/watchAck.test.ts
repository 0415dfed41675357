/**
 * `mirror verify --watch` on a queue that has a real consumer: ack mode by default
 * with `verify.liveConsumer`, judged from the answers logs nginx and mirror ship
 * write, the queue never touched (its endpoint counts every request), the cause of
 * each missing callback on /metrics; and the peek watch refusing a queue whose
 * redrive policy its receives could exhaust.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createServer, type Server } from 'node:http';
import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetQueueAttributesCommand, SetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { startFauxqs, type Fauxqs } from '../../src/sqs/fauxqs.js';
import { waitFor } from '../../src/os/childProcess.js';
import { runWatch, formatWatchText, type WatchResult } from '../../src/commands/watch.js';
import { AckStream } from '../../src/verify/engine/ackStream.js';
import { answersLogPath } from '../../src/config/answersLogPath.js';
import { exampleConfig, withValue, writeConfigFile } from '../support/config.js';
import { numberedRequestId, parityLine } from '../support/parityLog.js';
import type { CallbackRecord } from '../../src/verify/engine/records.js';
import type { GatewayAnswer } from '../../src/verify/engine/gatewayAnswers.js';

/** One line of the mirror location's answers log, as the rendered nginx writes it. */
const mirrorAnswer = (requestId: string, status: number, fields: { upstream?: string; connect?: string; header?: string; errorType?: string } = {}) =>
  JSON.stringify({
    v: 1, kind: 'mirror', msec: Date.now() / 1000, request_id: requestId, status, upstream_status: fields.upstream ?? String(status),
    upstream_connect_time: fields.connect ?? '0.001', upstream_header_time: fields.header ?? '0.004', upstream_response_time: '0.005', error_type: fields.errorType ?? '',
  });

const shipAck = (requestId: string, fields: Record<string, unknown>) =>
  JSON.stringify({ v: 1, kind: 'ship', time: new Date().toISOString(), request_id: requestId, target: 'custom-domain', status: 200, error_type: '', outcome: 'delivered', cause: 'ok', uncertain: false, attempts: 1, latency_ms: 3, ...fields });

function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

const dirs: string[] = [];
const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

/** An HTTP server standing where SQS would be: it counts what reaches it and answers 500. */
async function countingEndpoint(): Promise<{ url: string; requests: () => number }> {
  let n = 0;
  const server = createServer((_req, res) => {
    n++;
    res.writeHead(500).end();
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as { port: number };
  return { url: `http://127.0.0.1:${address.port}`, requests: () => n };
}

describe('mirror verify --watch --mode ack', () => {
  it('with verify.liveConsumer, judges from the answers logs by default, counts each cause on /metrics, and never touches the queue', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mirror-watch-ack-'));
    dirs.push(dir);
    const sqsEndpoint = await countingEndpoint();
    const log = join(dir, 'parity.log');
    const shipLog = join(dir, 'ship-acks.log');
    let raw = withValue(exampleConfig(), 'sqs', { queueUrl: 'https://sqs.ap-northeast-2.amazonaws.com/000000000000/kakao-at-result', endpoint: sqsEndpoint.url });
    raw = withValue(raw, 'verify', { grace: '1s', gate: 0.999, minSample: 5, liveConsumer: true });
    raw = withValue(raw, 'parityLog', { path: log, body: true });
    raw = withValue(raw, 'ship', { ackLog: shipLog });
    const config = await writeConfigFile(raw, dir);
    const answers = answersLogPath({ parityLog: { path: log, body: true } } as Parameters<typeof answersLogPath>[0]);
    // Before the watch starts: followed from the end, so never judged.
    await writeFile(log, `${parityLine(numberedRequestId(999), '{}', { msec: Date.now() - 500 })}\n`);
    await writeFile(answers, `${mirrorAnswer(numberedRequestId(999), 415)}\n`);

    const controller = new AbortController();
    let listening!: (a: { host: string; port: number }) => void;
    const address = new Promise<{ host: string; port: number }>((resolve) => (listening = resolve));
    const printed: string[] = [];
    const running = runWatch({ config, listen: '127.0.0.1:0', intervalMs: 100, terminal: false, print: (t) => printed.push(t), signal: controller.signal, onListening: listening });
    let result: WatchResult | undefined;
    try {
      const { port } = await address;
      const ids = Array.from({ length: 16 }, (_, i) => numberedRequestId(i));
      // An answer may be read before its callback (another file): it waits for it.
      await appendFile(answers, `${mirrorAnswer(ids[0]!, 200)}\n`);
      await appendFile(log, `${ids.map((id) => parityLine(id, '{}')).join('\n')}\n`);
      await appendFile(
        answers,
        `${[
          ...ids.slice(1, 10).map((id) => mirrorAnswer(id, 200)),
          mirrorAnswer(ids[10]!, 415, { errorType: 'UnsupportedMediaTypeException' }),
          mirrorAnswer(ids[11]!, 400, { errorType: 'BadRequestException' }),
          mirrorAnswer(ids[12]!, 502, { connect: '-', header: '-' }),
          // A read timeout after sending: it may have landed.
          mirrorAnswer(ids[13]!, 504, { connect: '0.001', header: '-' }),
          'not json',
        ].join('\n')}\n`,
      );
      // mirror ship's ack log: one delivered after an uncertain attempt, one given up on DNS.
      await appendFile(shipLog, `${[shipAck(ids[14]!, { outcome: 'gave-up', status: null, cause: 'timeout', uncertain: true }), shipAck(ids[14]!, {}), shipAck(ids[15]!, { outcome: 'gave-up', status: null, cause: 'dns' })].join('\n')}\n`);

      const metricsUrl = `http://127.0.0.1:${port}/metrics`;
      let m = new Map<string, number>();
      await waitFor(async () => {
        m = samples(await (await fetch(metricsUrl)).text());
        return m.get('mirror_callbacks_total') === 16 && m.get('mirror_unknown_total') === 1;
      }, { timeoutMs: 15_000, what: 'the ack watch to judge every callback', describe: () => Promise.resolve(printed.at(-1) ?? 'nothing printed') });
      expect({
        matched: m.get('mirror_matched_total'),
        missing: m.get('mirror_missing_total'),
        http415: m.get('mirror_missing_by_cause_total{cause="http-415"}'),
        http400: m.get('mirror_missing_by_cause_total{cause="http-400"}'),
        refused: m.get('mirror_missing_by_cause_total{cause="connect-refused"}'),
        timeout: m.get('mirror_missing_by_cause_total{cause="timeout"}'),
        dns: m.get('mirror_missing_by_cause_total{cause="dns"}'),
        tls: m.get('mirror_missing_by_cause_total{cause="tls"}'),
      }).toEqual({ matched: 11, missing: 4, http415: 1, http400: 1, refused: 1, timeout: 1, dns: 1, tls: 0 });
      expect(m.get('mirror_undecided_items')).toBe(0);
      controller.abort();
      result = await running;
    } finally {
      controller.abort();
      await running.catch(() => undefined);
    }
    expect(result.counts).toMatchObject({ callbacks: 16, matched: 11, missing: 4, pending: 0 });
    expect(result.ack).toMatchObject({ unknown: 1, byCauseLabel: { 'http-415': 1, 'http-400': 1, 'connect-refused': 1, timeout: 1, dns: 1 } });
    expect(result.ack!.byCause).toMatchObject({ 'http-415 (415 UnsupportedMediaTypeException)': 1 });
    expect(result.exitCode).toBe(1);
    expect(formatWatchText(result)).toContain('missing or unknown by cause: http-415 (415 UnsupportedMediaTypeException) 1');
    expect(printed.some((line) => / mode ack parity .* causes .*http-415:1/.test(line))).toBe(true);
    expect(sqsEndpoint.requests()).toBe(0);
  });

  it('an explicit --mode peek on a live consumer is still a peek (and reaches the queue)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mirror-watch-ack-'));
    dirs.push(dir);
    const sqsEndpoint = await countingEndpoint();
    let raw = withValue(exampleConfig(), 'sqs', { queueUrl: 'https://sqs.ap-northeast-2.amazonaws.com/000000000000/kakao-at-result', endpoint: sqsEndpoint.url });
    raw = withValue(raw, 'verify', { grace: '1s', liveConsumer: true });
    const config = await writeConfigFile(raw, dir);
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'x');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'x');
    try {
      await expect(runWatch({ config, mode: 'peek', parityLog: [join(dir, 'p.log')], listen: '127.0.0.1:0', print: () => undefined })).rejects.toMatchObject({ exitCode: 3 });
    } finally {
      vi.unstubAllEnvs();
    }
    expect(sqsEndpoint.requests()).toBeGreaterThan(0);
  });
});

describe('mirror verify --watch --mode peek and the redrive policy', () => {
  let fauxqs: Fauxqs;
  let sqs: SQSClient;
  beforeAll(async () => {
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'fauxqs');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'fauxqs');
    fauxqs = await startFauxqs();
    sqs = fauxqs.client();
  });
  afterAll(async () => {
    vi.unstubAllEnvs();
    sqs?.destroy();
    await fauxqs?.stop();
  });

  it('refuses (exit 2, naming maxReceiveCount and the flag) on a queue with a redrive policy, and runs with --allow-redrive-receives', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mirror-watch-redrive-'));
    dirs.push(dir);
    const queueUrl = await fauxqs.createQueue('watch-redrive');
    const dlqUrl = await fauxqs.createQueue('watch-redrive-dlq');
    const dlq = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['QueueArn'] }));
    await sqs.send(new SetQueueAttributesCommand({ QueueUrl: queueUrl, Attributes: { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.Attributes!.QueueArn, maxReceiveCount: 5 }) } }));
    const raw = withValue(withValue(exampleConfig(), 'sqs', { queueUrl: 'https://sqs.ap-northeast-2.amazonaws.com/000000000000/watch-redrive', endpoint: fauxqs.endpoint }), 'verify', { grace: '1s' });
    const config = await writeConfigFile(raw, dir);
    const log = join(dir, 'parity.log');
    await writeFile(log, '');
    const refused = runWatch({ config, parityLog: [log], listen: '127.0.0.1:0', print: () => undefined });
    await expect(refused).rejects.toMatchObject({ exitCode: 2, message: expect.stringMatching(/maxReceiveCount 5.*--allow-redrive-receives/s) });

    const controller = new AbortController();
    const allowed = runWatch({ config, parityLog: [log], listen: '127.0.0.1:0', print: () => undefined, waitSeconds: 1, allowRedriveReceives: true, signal: controller.signal, onListening: () => controller.abort() });
    await expect(allowed).resolves.toMatchObject({ exitCode: 4 });
  });
});

describe('AckStream (pure): what a watch holds and when it decides', () => {
  const record = (i: number, timeMs: number): CallbackRecord => ({
    requestId: numberedRequestId(i), timeMs, method: 'POST', uri: '/cb', status: 200, upstreamStatus: '200', sentToGateway: true, phase: 'shadow', source: { file: 'p', line: i + 1 },
  });
  const answer = (i: number, outcome: GatewayAnswer['outcome'], cause: GatewayAnswer['cause'], status: number | null): GatewayAnswer => ({
    requestId: numberedRequestId(i), outcome, status, errorType: '', cause, source: 'mirror',
  });

  it('decides a 2xx at once and anything else at the grace, keeps a delivered over an earlier unknown, and forgets what it decided', () => {
    const s = new AckStream({ graceMs: 1000 });
    s.addCallback(record(1, 0), 0);
    s.addAnswer(answer(1, 'unknown', 'timeout', null), 10);
    s.addAnswer(answer(1, 'delivered', 'ok', 200), 20);
    expect(s.judgement().counts).toMatchObject({ matched: 1, callbacks: 1 });
    s.addCallback(record(2, 0), 0);
    s.addAnswer(answer(2, 'failed', 'http-415', 415), 10);
    s.addCallback(record(3, 0), 0);
    expect(s.judgement().counts).toMatchObject({ missing: 0, pending: 2 });
    // An answer whose callback is never read (before the window) is dropped after one grace.
    s.addAnswer(answer(4, 'delivered', 'ok', 200), 100);
    expect(s.undecided).toBe(3);
    s.advance(1200);
    const j = s.judgement();
    expect(j.counts).toMatchObject({ matched: 1, missing: 2, pending: 0, callbacks: 3 });
    expect(j.byCauseLabel).toMatchObject({ 'http-415': 1, 'no-answer': 1, timeout: 0 });
    expect(s.undecided).toBe(0);
  });
});
