/**
 * Pure: the Grafana dashboard over `mirror verify --watch`'s metrics, from its
 * Handlebars template. Data in, JSON text out; the command reads the template
 * and writes the file.
 */
import Handlebars from 'handlebars';

export interface DashboardView {
  title: string;
  uid: string;
  /** The parity gate (0..1), drawn as the parity panels' threshold. */
  gate: number;
  /** Delivery-lag quantiles drawn from the histogram. */
  lagQuantiles: readonly number[];
}

export const defaultDashboardView: DashboardView = {
  title: 'mirror: callback parity (nginx vs API Gateway + SQS)',
  uid: 'mirror-parity',
  gate: 0.999,
  lagQuantiles: [0.5, 0.95, 0.99],
};

interface GrafanaTarget {
  refId: string;
  expr: string;
  legendFormat?: string;
  datasource: { type: string; uid: string };
}

interface GrafanaPanel {
  id: number;
  type: string;
  title: string;
  datasource: { type: string; uid: string };
  targets: GrafanaTarget[];
}

export interface GrafanaDashboard {
  title: string;
  uid: string;
  templating: { list: { name: string; type: string; query: string }[] };
  panels: GrafanaPanel[];
}

export interface RenderedDashboard {
  /** The dashboard as Grafana imports it: JSON, two-space indented, one trailing newline. */
  text: string;
  dashboard: GrafanaDashboard;
}

export function renderDashboard(template: string, view: DashboardView = defaultDashboardView): RenderedDashboard {
  if (!(view.gate >= 0 && view.gate <= 1)) throw new RangeError(`gate ${view.gate}: expected a ratio from 0 to 1`);
  const handlebars = Handlebars.create();
  // The one serializer for values placed in the JSON: strings quoted and escaped by JSON itself.
  handlebars.registerHelper('json', (value: unknown) => JSON.stringify(value));
  const letters = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
  const raw = handlebars.compile(template, { noEscape: true, strict: true })({
    title: view.title,
    uid: view.uid,
    gate: view.gate,
    gatePercent: `${Number((view.gate * 100).toFixed(4))}%`,
    lagQuantiles: view.lagQuantiles.map((quantile, i) => {
      if (!(quantile > 0 && quantile < 1)) throw new RangeError(`lag quantile ${quantile}: expected a number between 0 and 1`);
      return { quantile, refId: letters[i]!, legend: `p${Number((quantile * 100).toFixed(2))}` };
    }),
  });
  // Parsing is the check that the template produced JSON; re-serializing gives one stable layout.
  const dashboard = JSON.parse(raw) as GrafanaDashboard;
  return { text: `${JSON.stringify(dashboard, null, 2)}\n`, dashboard };
}

/** Every PromQL expression in the dashboard, with the panel it belongs to. */
export function dashboardQueries(dashboard: GrafanaDashboard): { panel: string; refId: string; expr: string }[] {
  return dashboard.panels.flatMap((panel) => panel.targets.map((t) => ({ panel: panel.title, refId: t.refId, expr: t.expr })));
}

/**
 * An expression as Grafana sends it to Prometheus: its interval variables replaced
 * (Grafana computes `$__rate_interval` as at least four scrape intervals).
 */
export function expandGrafanaVariables(expr: string, values: { rateInterval: string; interval?: string }): string {
  return expr
    .replaceAll('$__rate_interval', values.rateInterval)
    .replaceAll('${__rate_interval}', values.rateInterval)
    .replaceAll('$__interval', values.interval ?? values.rateInterval)
    .replaceAll('${__interval}', values.interval ?? values.rateInterval);
}
