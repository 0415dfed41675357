/** `mirror render dashboard`: the Grafana dashboard JSON, its panels and queries, written atomically. */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultDashboardFile, formatRenderDashboardText, runRenderDashboard } from '../../src/commands/renderDashboard.js';
import { dashboardQueries, expandGrafanaVariables, renderDashboard, defaultDashboardView, type GrafanaDashboard } from '../../src/render/dashboard.js';
import { ParityMetrics } from '../../src/verify/sources/metrics.js';
import { ShipMetrics } from '../../src/ship/shipMetrics.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function rendered(): Promise<GrafanaDashboard> {
  return JSON.parse((await runRenderDashboard({ stdout: true })).json) as GrafanaDashboard;
}

describe('mirror render dashboard', () => {
  it('renders the dashboard JSON as Grafana imports it (snapshot)', async () => {
    const result = await runRenderDashboard({ stdout: true });
    expect(result.path).toBeUndefined();
    expect(result.json).toMatchSnapshot();
    expect(formatRenderDashboardText(result)).toBe(result.json.trimEnd());
  });

  it('has a Prometheus datasource variable, and every panel and query uses it', async () => {
    const d = await rendered();
    expect(d.templating.list).toEqual([expect.objectContaining({ name: 'datasource', type: 'datasource', query: 'prometheus' })]);
    for (const panel of d.panels) {
      expect(panel.datasource).toEqual({ type: 'prometheus', uid: '${datasource}' });
      for (const target of panel.targets) expect(target.datasource).toEqual({ type: 'prometheus', uid: '${datasource}' });
    }
    expect(new Set(d.panels.map((p) => p.id)).size).toBe(d.panels.length);
  });

  it('covers parity, missing and unexpected rates, mismatches, lag quantiles, phase and receive errors', async () => {
    const exprs = dashboardQueries(await rendered()).map((q) => q.expr);
    expect(exprs).toEqual(
      expect.arrayContaining([
        'min(mirror_parity_ratio)',
        'sum(rate(mirror_missing_total[$__rate_interval]))',
        'sum(rate(mirror_unexpected_total[$__rate_interval]))',
        'sum(increase(mirror_body_mismatches_total[$__rate_interval]))',
        'sum(increase(mirror_body_not_checked_total[$__rate_interval]))',
        'max by (phase) (mirror_phase) == 1',
        'sum by (kind) (rate(mirror_sqs_receive_errors_total[$__rate_interval]))',
        'sum by (cause) (increase(mirror_missing_by_cause_total[$__rate_interval]))',
        'sum(increase(mirror_unknown_total[$__rate_interval]))',
        ...[0.5, 0.95, 0.99].map((q) => `histogram_quantile(${q}, sum by (le) (rate(mirror_delivery_lag_seconds_bucket[$__rate_interval])))`),
      ]),
    );
  });

  it('queries only metrics that the watch or the shipper exports', async () => {
    const metrics = new ParityMetrics();
    metrics.setPhase('shadow');
    const exported = new Set(
      [await metrics.metrics(), await new ShipMetrics().registry.metrics()]
        .join('\n')
        .split('\n')
        .filter((l) => l !== '' && !l.startsWith('#'))
        .map((l) => /^[a-z_:]+/.exec(l)![0]),
    );
    const used = dashboardQueries(await rendered()).flatMap((q) => [...q.expr.matchAll(/\bmirror_[a-z_]+/g)].map((m) => m[0]));
    expect(used.length).toBeGreaterThan(10);
    for (const name of used) expect(exported, name).toContain(name);
  });

  it('draws the gate as the parity threshold, and refuses a gate outside 0..1', async () => {
    const d = JSON.parse((await runRenderDashboard({ stdout: true, gate: 0.995 })).json) as { panels: { fieldConfig: { defaults: { thresholds?: { steps: { value: number | null }[] } } } }[] };
    expect(d.panels[0]!.fieldConfig.defaults.thresholds!.steps.at(-1)!.value).toBe(0.995);
    await expect(runRenderDashboard({ stdout: true, gate: 1.5 })).rejects.toThrow(/--gate 1.5/);
    expect(() => renderDashboard('{}', { ...defaultDashboardView, lagQuantiles: [1] })).toThrow(/quantile/);
  });

  it('writes the file atomically where --out says (default mirror-dashboard.json), leaving no temp file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mirror-dashboard-'));
    dirs.push(dir);
    expect(defaultDashboardFile).toBe('mirror-dashboard.json');
    const out = join(dir, 'grafana.json');
    const first = await runRenderDashboard({ out });
    expect(first.path).toBe(out);
    expect(await readFile(out, 'utf8')).toBe(first.json);
    expect((await stat(out)).mode & 0o777).toBe(0o644);
    await runRenderDashboard({ out });
    expect(await readdir(dir)).toEqual(['grafana.json']);
    expect(formatRenderDashboardText(first)).toMatch(new RegExp(`^wrote ${out}: a Grafana dashboard, 15 panels, 32 queries`));
    await expect(runRenderDashboard({ out: join(dir, 'no-such-dir', 'x.json') })).rejects.toThrow(/--out .*ENOENT/);
  });

  it('expands Grafana interval variables the way a query reaches Prometheus', () => {
    expect(expandGrafanaVariables('rate(x[$__rate_interval]) + rate(y[${__interval}])', { rateInterval: '1m' })).toBe('rate(x[1m]) + rate(y[1m])');
  });
});
