/** `mirror render dashboard`: the Grafana dashboard over the watch metrics, written atomically or printed. */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ExitCode, UsageError } from '../errors.js';
import { writeFileAtomic } from '../fs/atomicWrite.js';
import { templatesDir } from '../render/templates.js';
import { dashboardQueries, defaultDashboardView, renderDashboard } from '../render/dashboard.js';

export interface RenderDashboardOptions {
  out?: string;
  stdout?: boolean;
  /** The parity gate drawn on the parity panels (default 0.999, the config default). */
  gate?: number;
  /** Where templates/ is (tests). */
  templatesDir?: string;
}

export interface RenderDashboardResult {
  exitCode: ExitCode;
  /** Where it was written; absent with --stdout. */
  path?: string;
  /** The dashboard JSON text, as Grafana imports it. */
  json: string;
  panels: number;
  queries: string[];
}

export const defaultDashboardFile = 'mirror-dashboard.json';

export async function runRenderDashboard(options: RenderDashboardOptions = {}): Promise<RenderDashboardResult> {
  const gate = options.gate ?? defaultDashboardView.gate;
  if (!(gate >= 0 && gate <= 1)) throw new UsageError(`--gate ${gate}: expected a ratio from 0 to 1, e.g. 0.999`);
  const template = await readFile(join(options.templatesDir ?? templatesDir, 'dashboard', 'dashboard.json.hbs'), 'utf8');
  const { text, dashboard } = renderDashboard(template, { ...defaultDashboardView, gate });
  const result: RenderDashboardResult = {
    exitCode: ExitCode.ok,
    json: text,
    panels: dashboard.panels.length,
    queries: dashboardQueries(dashboard).map((q) => q.expr),
  };
  if (options.stdout) return result;
  const path = resolve(options.out ?? defaultDashboardFile);
  await writeFileAtomic(path, text).catch((error: NodeJS.ErrnoException) => {
    throw new UsageError(`--out ${options.out ?? defaultDashboardFile}: cannot write ${path}: ${error.code ?? error.message}`);
  });
  return { ...result, path };
}

export function formatRenderDashboardText(result: RenderDashboardResult): string {
  if (result.path === undefined) return result.json.trimEnd();
  return [
    `wrote ${result.path}: a Grafana dashboard, ${result.panels} panels, ${result.queries.length} queries over the mirror_* metrics of mirror verify --watch and mirror ship`,
    'Import it in Grafana (Dashboards > New > Import) and choose the Prometheus data source that scrapes the watch (--listen, default 127.0.0.1:9464/metrics) and, with mirror.transport ship, the shipper (ship.listen, default 127.0.0.1:9465/metrics).',
  ].join('\n');
}
