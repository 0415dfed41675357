/**
 * The dashboard's shipper panels: every `mirror_ship_*` query returns data from a
 * real Prometheus scraping a running `mirror ship` once a second, while it ships
 * parity-log lines over real TLS (test CA, names from dnsmasq) to a slow target
 * that answers each callback's first attempt 503, and meets a body nginx did not
 * capture.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:https';
import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '../../src/os/childProcess.js';
import { freePort } from '../../src/os/freePort.js';
import { createTestCa, type TestCa } from '../../src/sandbox/testCa.js';
import { startDnsServer, type DnsServer } from '../../src/sandbox/dnsServer.js';
import { runShip, type ShipResult } from '../../src/commands/ship.js';
import { runRenderDashboard } from '../../src/commands/renderDashboard.js';
import { dashboardQueries, expandGrafanaVariables, type GrafanaDashboard } from '../../src/render/dashboard.js';
import { prometheusBinary, prometheusInstalled, startPrometheus, type PrometheusServer, untilEveryQueryAnswers } from '../support/prometheus.js';
import { exampleConfig, withValue, writeConfigFile } from '../support/config.js';
import { numberedRequestId, parityLine } from '../support/parityLog.js';

const installed = await prometheusInstalled();
if (!installed) console.warn(`skipped: ${prometheusBinary} is missing (apt-get install prometheus, or bash scripts/setup.sh as root)`);

const host = 'a1b2c3d4e5.execute-api.ap-northeast-2.amazonaws.com';

describe.skipIf(!installed)(`the dashboard's shipper panels against a real Prometheus (${prometheusBinary})`, () => {
  let ca: TestCa | undefined;
  let dns: DnsServer | undefined;
  let target: Server | undefined;
  let prometheus: PrometheusServer | undefined;
  let ship: { controller: AbortController; result: Promise<ShipResult> } | undefined;
  let dir: string | undefined;
  afterAll(async () => {
    // Pass or fail: every process, server and directory this test made goes.
    await prometheus?.stop();
    if (ship) {
      ship.controller.abort();
      await ship.result.catch(() => undefined);
    }
    if (target) {
      target.closeAllConnections();
      await new Promise<void>((resolve) => target!.close(() => resolve()));
    }
    await dns?.stop();
    await ca?.remove();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('returns data for every mirror_ship_ expression in the dashboard', async () => {
    dir = await mkdtemp(join(tmpdir(), 'mirror-dashboard-ship-'));
    ca = await createTestCa([host]);
    dns = await startDnsServer({ [host]: '127.0.0.1' });
    // API Gateway, slowly: each callback's first attempt 503 (a retry), then 200 after 150 ms.
    const attempts = new Map<string, number>();
    target = createServer({ cert: ca.cert, key: ca.key }, (req, res) => {
      req.resume();
      req.on('end', () => {
        const id = String(req.headers['x-mirror-request-id'] ?? '');
        const n = (attempts.get(id) ?? 0) + 1;
        attempts.set(id, n);
        if (n === 1) return void res.writeHead(503, { 'x-amzn-errortype': 'ServiceUnavailableException' }).end('{}');
        setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'), 150);
      });
    });
    await new Promise<void>((resolve) => target!.listen(0, '127.0.0.1', () => resolve()));
    const log = join(dir, 'parity.log');
    await writeFile(log, '');
    let raw = withValue(exampleConfig(), 'mirror.transport', 'ship');
    raw = withValue(raw, 'apiGateway.port', (target.address() as { port: number }).port);
    raw = withValue(raw, 'apiGateway.trustedCertificate', ca.caPath);
    raw = withValue(raw, 'resolver.addresses', [dns.address]);
    raw = withValue(raw, 'parityLog.path', log);
    raw.ship = { checkpoint: join(dir, 'checkpoint.json'), ackLog: join(dir, 'ack.log'), window: 2, minBackoff: '20ms', maxBackoff: '100ms', statusInterval: '1h' };
    const config = await writeConfigFile(raw, dir);

    const controller = new AbortController();
    const address = await new Promise<{ host: string; port: number }>((resolve, reject) => {
      const result = runShip({ config, listen: '127.0.0.1:0', signal: controller.signal, print: () => undefined, terminal: false, onListening: resolve });
      ship = { controller, result };
      result.then(() => reject(new Error('the shipper ended before it listened')), reject);
    });
    const scrapeTarget = `${address.host}:${address.port}`;
    prometheus = await startPrometheus({ target: scrapeTarget, scrapeIntervalSeconds: 1 });
    await waitFor(() => prometheus!.targetUp(), { timeoutMs: 20_000, what: `prometheus scraping ${scrapeTarget}` });

    // One round: 40 callbacks of 4 KiB (more than one read of the log, so a backlog
    // stays while the slow target answers) and one whose body nginx did not capture.
    let next = 0;
    const round = async () => {
      const lines = Array.from({ length: 40 }, () => parityLine(numberedRequestId(++next), JSON.stringify({ MSGID: String(next), PAD: 'x'.repeat(4096) })));
      lines.push(JSON.stringify({ ...JSON.parse(parityLine(numberedRequestId(++next), '')), content_length: '5000' }));
      await appendFile(log, `${lines.join('\n')}\n`);
    };

    const dashboard = JSON.parse((await runRenderDashboard({ stdout: true })).json) as GrafanaDashboard;
    const queries = dashboardQueries(dashboard)
      .filter((q) => q.expr.includes('mirror_ship_'))
      .map((q) => ({ ...q, promql: expandGrafanaVariables(q.expr, { rateInterval: '1m' }) }));
    expect(queries.length).toBe(12);
    // Traffic keeps flowing while we ask: each pass sends one more round first.
    await untilEveryQueryAnswers(prometheus!, queries, round, { timeoutMs: 60_000, what: 'the shipper panels returning data' });
    // The label series that moved (the metrics start every bounded label at 0).
    const byLabel = async (expr: string, label: string) => (await prometheus!.query(expandGrafanaVariables(expr, { rateInterval: '1m' }))).filter((s) => Number(s.value[1]) > 0).map((s) => s.metric[label]).sort();
    expect(await byLabel('sum by (outcome) (rate(mirror_ship_sent_total[$__rate_interval]))', 'outcome')).toEqual(['delivered', 'not-captured']);
    expect(await byLabel('sum by (cause) (rate(mirror_ship_retries_total[$__rate_interval]))', 'cause')).toContain('http-5xx');
    expect(await byLabel('sum by (cause) (rate(mirror_ship_failed_total[$__rate_interval]))', 'cause')).toEqual(['body-not-captured']);
  }, 120_000);
});
