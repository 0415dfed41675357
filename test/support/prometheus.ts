/**
 * A real Prometheus server (Debian package `prometheus`, /usr/bin/prometheus) in a
 * process of its own on 127.0.0.1 and a free port, with its config and TSDB in a
 * temporary directory, scraping one target. For the dashboard test: every query
 * the dashboard holds is asked of it.
 */
import { access, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { MissingDependencyError } from '../../src/errors.js';
import { stopChild, waitFor } from '../../src/os/childProcess.js';
import { freePort } from '../../src/os/freePort.js';

export const prometheusBinary = '/usr/bin/prometheus';

export interface PrometheusServer {
  url: string;
  port: number;
  pid: number;
  /** An instant query through the HTTP API (/api/v1/query); throws on an error status. */
  query(expr: string): Promise<PrometheusVector>;
  /** Whether the last scrape of the target succeeded (`up == 1`). */
  targetUp(): Promise<boolean>;
  /** Stops the server (SIGTERM, then SIGKILL) and removes its directory. */
  stop(): Promise<void>;
}

type PrometheusVector = { metric: Record<string, string>; value: [number, string] }[];

export async function prometheusInstalled(binary = prometheusBinary): Promise<boolean> {
  return access(binary).then(() => true, () => false);
}

export async function startPrometheus(options: {
  /** host:port of the /metrics endpoint to scrape. */
  target: string;
  /** More host:port endpoints scraped in the same job (e.g. a second watch in another mode). */
  moreTargets?: string[];
  metricsPath?: string;
  scrapeIntervalSeconds?: number;
  binary?: string;
  timeoutMs?: number;
}): Promise<PrometheusServer> {
  const binary = options.binary ?? prometheusBinary;
  if (!(await prometheusInstalled(binary))) {
    throw new MissingDependencyError(`${binary} is missing`, ['install the Debian package: apt-get install prometheus (scripts/setup.sh does, without starting its service)']);
  }
  const dir = await mkdtemp(join(tmpdir(), 'mirror-prometheus-'));
  const interval = `${options.scrapeIntervalSeconds ?? 1}s`;
  // JSON is YAML: one serializer, no quoting rules of our own. The timeout may not exceed the interval.
  const config = {
    global: { scrape_interval: interval, scrape_timeout: interval, evaluation_interval: interval },
    scrape_configs: [{ job_name: 'mirror', metrics_path: options.metricsPath ?? '/metrics', static_configs: [{ targets: [options.target, ...(options.moreTargets ?? [])] }] }],
  };
  await writeFile(join(dir, 'prometheus.yml'), JSON.stringify(config, null, 2));
  let child: ResultPromise | undefined;
  const stop = async () => {
    if (child) await stopChild(child);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    child = execa(
      binary,
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
      ],
      { reject: false, detached: true, stdin: 'ignore', stdout: 'ignore', stderr: 'pipe', buffer: { stderr: true }, cwd: dir },
    );
    const started = child;
    await waitFor(async () => (await fetch(`${url}/-/ready`).catch(() => undefined))?.ok === true, {
      timeoutMs: options.timeoutMs ?? 30_000,
      what: `prometheus on ${url}`,
      child: started,
    });
    const query = async (expr: string): Promise<PrometheusVector> => {
      const response = await fetch(`${url}/api/v1/query?${new URLSearchParams({ query: expr })}`);
      const body = (await response.json()) as { status: string; error?: string; data?: { resultType: string; result: PrometheusVector } };
      if (body.status !== 'success' || !body.data) throw new Error(`prometheus query ${expr}: ${body.error ?? `HTTP ${response.status}`}`);
      if (body.data.resultType !== 'vector') throw new Error(`prometheus query ${expr}: a ${body.data.resultType}, expected a vector`);
      return body.data.result;
    };
    return {
      url,
      port,
      pid: started.pid!,
      query,
      targetUp: async () => (await query('up{job="mirror"}')).some((s) => s.value[1] === '1'),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * Asks each query until every one returns data, calling `round` (more traffic)
 * before each pass. "Data" is a sample above zero: a 0 from a counter that exists
 * but never moved, or a NaN (a quantile over no observations), would pass a panel
 * that shows nothing of the traffic. The answers by PromQL; on time-out, an error
 * naming the queries still empty.
 */
export async function untilEveryQueryAnswers(
  prometheus: PrometheusServer,
  queries: readonly { panel: string; refId: string; promql: string }[],
  round: () => Promise<void>,
  wait: { timeoutMs: number; what: string },
): Promise<Map<string, PrometheusVector>> {
  const answered = new Map<string, PrometheusVector>();
  const unanswered = () => queries.filter((q) => !answered.has(q.promql)).map((q) => `${q.panel} / ${q.refId}: ${q.promql}`);
  await waitFor(
    async () => {
      await round();
      for (const q of queries) {
        if (answered.has(q.promql)) continue;
        const result = await prometheus.query(q.promql);
        if (result.some((s) => Number(s.value[1]) > 0)) answered.set(q.promql, result);
      }
      return answered.size === new Set(queries.map((q) => q.promql)).size;
    },
    wait,
  ).catch((error: Error) => {
    throw new Error(`${error.message}\nstill empty:\n  ${unanswered().join('\n  ')}`);
  });
  return answered;
}
