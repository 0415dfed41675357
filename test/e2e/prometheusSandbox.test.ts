/**
 * The dashboard's view of the real thing: `mirror verify --watch` over the full
 * sandbox (callbacks through real nginx, the gateway stand-in, fauxqs), scraped by
 * a real Prometheus, answers the dashboard's delivery queries with what the
 * traffic did: everything matched, parity 1, a lag quantile, the phase.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { startFullSandbox, type FullSandbox } from '../../src/sandbox/fullSandbox.js';
import { sendCallbacks, trickyCallback } from '../../src/sandbox/callbacks.js';
import { bizppurio } from '../../src/vendors/bizppurio.js';
import { waitFor } from '../../src/os/childProcess.js';
import { prometheusBinary, prometheusInstalled, startPrometheus, type PrometheusServer } from '../support/prometheus.js';
import { runWatch, type WatchResult } from '../../src/commands/watch.js';
import { runRenderDashboard } from '../../src/commands/renderDashboard.js';
import { dashboardQueries, expandGrafanaVariables, type GrafanaDashboard } from '../../src/render/dashboard.js';
import { writeConfigFile } from '../support/config.js';

const installed = await prometheusInstalled();
if (!installed) console.warn(`skipped: ${prometheusBinary} is missing (apt-get install prometheus, or bash scripts/setup.sh as root)`);

describe.skipIf(!installed)('Prometheus scraping verify --watch over the sandbox', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    vi.unstubAllEnvs();
  });

  it('the delivery queries of the dashboard show the sandbox traffic', async () => {
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'sandbox');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'sandbox');
    const sandbox: FullSandbox = await startFullSandbox();
    cleanups.push(() => sandbox.stop());
    const dir = await mkdtemp(join(tmpdir(), 'mirror-prom-sandbox-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const tree = sandbox.configTree();
    tree.verify = { grace: '1s', gate: 0.999, minSample: 5 };
    const config = await writeConfigFile(tree, dir);

    const controller = new AbortController();
    let result: Promise<WatchResult> | undefined;
    const address = await new Promise<{ host: string; port: number }>((resolve, reject) => {
      result = runWatch({ config, parityLog: [sandbox.stack.parityLogPath], mode: 'consume', archive: join(dir, 'archive.jsonl'), listen: '127.0.0.1:0', intervalMs: 250, waitSeconds: 1, signal: controller.signal, print: () => undefined, onListening: resolve });
      result.then(() => reject(new Error('the watch ended before it listened')), reject);
    });
    cleanups.push(async () => {
      controller.abort();
      await result?.catch(() => undefined);
    });
    const prometheus: PrometheusServer = await startPrometheus({ target: `${address.host}:${address.port}`, scrapeIntervalSeconds: 1 });
    cleanups.push(() => prometheus.stop());
    await waitFor(() => prometheus.targetUp(), { timeoutMs: 20_000, what: 'prometheus scraping the watch' });

    const dashboard = JSON.parse((await runRenderDashboard({ stdout: true })).json) as GrafanaDashboard;
    const exprs = new Set(dashboardQueries(dashboard).map((q) => q.expr));
    const wanted = ['min(mirror_parity_ratio)', 'sum(rate(mirror_matched_total[$__rate_interval]))', 'max by (phase) (mirror_phase) == 1'];
    for (const expr of wanted) expect(exprs, `the dashboard has ${expr}`).toContain(expr);
    const lagQuery = [...exprs].find((e) => e.includes('histogram_quantile(0.5') || e.includes('histogram_quantile(0.50'));
    expect(lagQuery, 'a lag p50 query').toBeDefined();

    let seq = 0;
    const answers = new Map<string, number>();
    await waitFor(
      async () => {
        // Callbacks keep flowing through nginx while we ask.
        const sent = await sendCallbacks(sandbox.stack.callbackUrl, Array.from({ length: 10 }, () => trickyCallback(bizppurio, seq++)));
        expect(sent.every((r) => r.status === 200)).toBe(true);
        for (const expr of [...wanted, lagQuery!]) {
          const vector = await prometheus.query(expandGrafanaVariables(expr, { rateInterval: '1m' }));
          const value = Number(vector[0]?.value[1]);
          if (Number.isFinite(value) && value > 0) answers.set(expr, value);
        }
        return answers.size === wanted.length + 1;
      },
      { timeoutMs: 45_000, what: 'the dashboard queries answering with sandbox traffic' },
    );
    expect(answers.get('min(mirror_parity_ratio)')).toBe(1);
    expect(answers.get(lagQuery!)).toBeGreaterThan(0);
    expect((await prometheus.query('max by (phase) (mirror_phase) == 1')).map((s) => s.metric.phase)).toEqual(['shadow']);
    expect(Number((await prometheus.query('sum(mirror_missing_total)'))[0]!.value[1])).toBe(0);
  }, 120_000);
});
