/**
 * Every query in the rendered dashboard returns data from a real Prometheus
 * (Debian package `prometheus`) scraping `mirror verify --watch` once a second,
 * while callbacks and SQS messages flow through the SQS emulator, including a
 * receive error (the queue deleted and created again); and a second watch in ack
 * mode (a queue with a live consumer) judging from API Gateway's answers, whose
 * missing callbacks carry their cause.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { randomBytes } from 'node:crypto';
import { appendFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteQueueCommand, SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { startFauxqs, type Fauxqs } from '../../src/sqs/fauxqs.js';
import { waitFor } from '../../src/os/childProcess.js';
import { prometheusBinary, prometheusInstalled, startPrometheus, type PrometheusServer, untilEveryQueryAnswers } from '../support/prometheus.js';
import { trickyCallback } from '../../src/sandbox/callbacks.js';
import { bizppurio } from '../../src/vendors/bizppurio.js';
import { runWatch, type WatchResult } from '../../src/commands/watch.js';
import { runRenderDashboard } from '../../src/commands/renderDashboard.js';
import { dashboardQueries, expandGrafanaVariables, type GrafanaDashboard } from '../../src/render/dashboard.js';
import { exampleConfig, withValue, writeConfigFile } from '../support/config.js';
import { parityLine } from '../support/parityLog.js';

const installed = await prometheusInstalled();
if (!installed) console.warn(`skipped: ${prometheusBinary} is missing (apt-get install prometheus, or bash scripts/setup.sh as root)`);

const newRequestId = (): string => randomBytes(16).toString('hex');
const bodies = Array.from({ length: 14 }, (_, i) => trickyCallback(bizppurio, i));

describe.skipIf(!installed)(`dashboard queries against a real Prometheus (${prometheusBinary})`, () => {
  let fauxqs: Fauxqs | undefined;
  let sqs: SQSClient | undefined;
  let prometheus: PrometheusServer | undefined;
  let watch: { controller: AbortController; result: Promise<WatchResult> } | undefined;
  let ackWatch: { controller: AbortController; result: Promise<WatchResult> } | undefined;
  let dir: string | undefined;
  beforeAll(async () => {
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'fauxqs');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'fauxqs');
    fauxqs = await startFauxqs();
    sqs = fauxqs.client();
  });
  afterAll(async () => {
    // Pass or fail: every process and directory this test made goes.
    await prometheus?.stop();
    for (const running of [watch, ackWatch]) {
      if (!running) continue;
      running.controller.abort();
      await running.result.catch(() => undefined);
    }
    sqs?.destroy();
    await fauxqs?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
    vi.unstubAllEnvs();
  });

  it('returns data for every expression in the dashboard', async () => {
    const started = Date.now();
    const name = 'dashboard-q';
    let queueUrl = await fauxqs!.createQueue(name);
    dir = await mkdtemp(join(tmpdir(), 'mirror-dashboard-prom-'));
    const log = join(dir, 'parity.log');
    await writeFile(log, '');
    const raw = withValue(
      withValue(exampleConfig(), 'sqs', { queueUrl: `https://sqs.ap-northeast-2.amazonaws.com/000000000000/${name}`, endpoint: fauxqs!.endpoint }),
      'verify',
      { grace: '1s', gate: 0.999, minSample: 5 },
    );
    const config = await writeConfigFile(raw, dir);

    const controller = new AbortController();
    const address = await new Promise<{ host: string; port: number }>((resolve, reject) => {
      const result = runWatch({ config, parityLog: [log], listen: '127.0.0.1:0', intervalMs: 250, waitSeconds: 1, receivers: 2, signal: controller.signal, print: () => undefined, onListening: resolve });
      watch = { controller, result };
      result.then(() => reject(new Error('the watch ended before it listened')), reject);
    });
    const target = `${address.host}:${address.port}`;

    // The ack watch: a queue with a live consumer, judged from the answers log nginx writes beside the parity log.
    const ackLog = join(dir, 'ack-parity.log');
    const answersLog = join(dir, 'ack-parity-answers.log');
    await writeFile(ackLog, '');
    await writeFile(answersLog, '');
    await mkdir(join(dir, 'ack'));
    const ackConfig = await writeConfigFile(withValue(withValue(raw, 'verify', { grace: '1s', gate: 0.999, minSample: 5, liveConsumer: true }), 'parityLog', { path: ackLog, body: true }), join(dir, 'ack'));
    const ackController = new AbortController();
    const ackAddress = await new Promise<{ host: string; port: number }>((resolve, reject) => {
      const result = runWatch({ config: ackConfig, listen: '127.0.0.1:0', intervalMs: 250, signal: ackController.signal, print: () => undefined, onListening: resolve });
      ackWatch = { controller: ackController, result };
      result.then(() => reject(new Error('the ack watch ended before it listened')), reject);
    });
    const ackTarget = `${ackAddress.host}:${ackAddress.port}`;
    prometheus = await startPrometheus({ target, moreTargets: [ackTarget], scrapeIntervalSeconds: 1 });
    const ready = Date.now();
    await waitFor(async () => (await prometheus!.query('up{job="mirror"} == 1')).length === 2, { timeoutMs: 20_000, what: `prometheus scraping ${target} and ${ackTarget}` });
    const scraping = Date.now();

    // One round of traffic: matched, duplicated, mismatched, missing, unexpected, rejected and unparseable.
    const round = async () => {
      const good = Array.from({ length: 5 }, () => newRequestId());
      const [mismatched, missing, unexpected, rejected, spilled] = [newRequestId(), newRequestId(), newRequestId(), newRequestId(), newRequestId()];
      await appendFile(
        log,
        `${[
          ...good.map((id, i) => parityLine(id, bodies[i]!)),
          parityLine(mismatched, bodies[5]!),
          parityLine(missing, bodies[6]!),
          parityLine(rejected, bodies[7]!, { status: 413, upstreamStatus: '' }),
          // A body nginx spilled to a temp file: logged empty, its length in content_length.
          JSON.stringify({ ...JSON.parse(parityLine(spilled, '')), content_length: String(Buffer.byteLength(bodies[4]!)) }),
          'not a parity line',
        ].join('\n')}\n`,
      );
      const messages = [
        ...good.map((id, i) => ({ id, body: bodies[i]! })),
        { id: good[0]!, body: bodies[0]! },
        { id: mismatched, body: bodies[5]!.replace('KAT', 'SMS') },
        { id: unexpected, body: bodies[8]! },
        { id: spilled, body: bodies[4]! },
      ];
      // Ack traffic: delivered, refused by API Gateway (415, no mapping template), and one with no answer (a read timeout).
      const acked = Array.from({ length: 4 }, () => newRequestId());
      await appendFile(ackLog, `${acked.map((id, i) => parityLine(id, bodies[i]!)).join('\n')}\n`);
      const answer = (id: string, status: number, header = '0.004') =>
        JSON.stringify({ v: 1, kind: 'mirror', msec: Date.now() / 1000, request_id: id, status, upstream_status: String(status), upstream_connect_time: '0.001', upstream_header_time: header, upstream_response_time: '0.005', error_type: status === 415 ? 'UnsupportedMediaTypeException' : '' });
      await appendFile(answersLog, `${[answer(acked[0]!, 200), answer(acked[1]!, 200), answer(acked[2]!, 415), answer(acked[3]!, 504, '-')].join('\n')}\n`);
      await sqs!.send(
        new SendMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: messages.map((m, i) => ({ Id: String(i), MessageBody: m.body, MessageAttributes: { 'mirror-request-id': { DataType: 'String', StringValue: m.id } } })),
        }),
      );
    };
    await round();

    // A receive error of a known kind: the queue is deleted under the watch, then created again.
    const receiveErrors = async () => {
      const text = await (await fetch(`http://${target}/metrics`)).text();
      return Number(/^mirror_sqs_receive_errors_total\{kind="queue_missing"\} (\d+)/m.exec(text)?.[1] ?? 0);
    };
    await sqs!.send(new DeleteQueueCommand({ QueueUrl: queueUrl }));
    await waitFor(async () => (await receiveErrors()) > 0, { timeoutMs: 20_000, what: 'a queue_missing receive error on /metrics' });
    queueUrl = await fauxqs!.createQueue(name);

    const dashboard = JSON.parse((await runRenderDashboard({ stdout: true })).json) as GrafanaDashboard;
    // The shipper's panels are checked against a running shipper (dashboardShip.prometheus.test.ts).
    const queries = dashboardQueries(dashboard)
      .filter((q) => !q.expr.includes('mirror_ship_'))
      .map((q) => ({ ...q, promql: expandGrafanaVariables(q.expr, { rateInterval: '1m' }) }));
    expect(queries.length).toBe(20);
    // Traffic keeps flowing while we ask: each pass sends one more round first.
    const answered = await untilEveryQueryAnswers(prometheus!, queries, round, { timeoutMs: 45_000, what: 'dashboard queries returning data' });
    const all = Date.now();

    // Asked again now that everything has happened at least once (the first answers may predate the first miss).
    const value = async (expr: string) => Number((await prometheus!.query(expandGrafanaVariables(expr, { rateInterval: '1m' })))[0]!.value[1]);
    expect(answered.get('max by (phase) (mirror_phase) == 1')!.map((s) => s.metric.phase)).toEqual(['shadow']);
    expect(answered.get('sum by (kind) (rate(mirror_sqs_receive_errors_total[1m]))')!.find((s) => s.metric.kind === 'queue_missing')!.value[1]).not.toBe('0');
    expect(await value('min(mirror_parity_ratio)')).toBeGreaterThan(0);
    expect(await value('min(mirror_parity_ratio)')).toBeLessThan(1);
    expect(await value('sum(rate(mirror_missing_total[$__rate_interval]))')).toBeGreaterThan(0);
    expect(await value('sum(rate(mirror_unexpected_total[$__rate_interval]))')).toBeGreaterThan(0);
    expect(await value('sum(mirror_body_mismatches_total)')).toBeGreaterThan(0);
    const causes = answered.get('sum by (cause) (increase(mirror_missing_by_cause_total[1m]))')!;
    expect(causes.filter((s) => Number(s.value[1]) > 0).map((s) => s.metric.cause).sort()).toEqual(['http-415', 'timeout']);
    expect(await value('sum(increase(mirror_unknown_total[$__rate_interval]))')).toBeGreaterThan(0);
    console.info(`prometheus test: prometheus ready after ${ready - started} ms, first scrape up ${scraping - ready} ms later, every query answered ${all - scraping} ms after that`);
  }, 120_000);
});
