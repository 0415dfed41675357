/**
 * The gate into `primary` with `mirror.transport: ship`: with ship, nothing before
 * `primary` made nginx itself talk to API Gateway (the shipper did the sending), so
 * nginx's own resolver, SNI and certificate path are untested. This starts a
 * throwaway nginx (a throwaway prefix, a free 127.0.0.1 port) with the `primary`
 * render and sends probes through it: in `primary` nginx answers the vendor with
 * API Gateway's own answer, which is 2xx only when SQS accepted the message (the
 * integration maps every SQS error to 5xx). Probes carry the probe mark; in
 * `primary` the origin receives them too, as with `mirror probe --through-nginx`.
 */
import { readFile } from 'node:fs/promises';
import type { MirrorConfig } from '../config/types.js';
import { renderNginx } from '../render/nginxConfig.js';
import { loadTemplates } from '../render/templates.js';
import { writeHarness } from '../nginx/harness.js';
import { startNginx } from '../nginx/nginxProcess.js';
import { freePort } from '../os/freePort.js';
import type { GateResult } from './gateResult.js';
import type { ProbeResult } from '../probe/sendProbes.js';

export interface NginxReachOptions {
  nginxPath: string;
  /** Probes to send (default 3). */
  count?: number;
  /** How long to wait for them in SQS, a duration (default 10s): arrival is a figure, the answers decide. */
  timeout?: string;
}

/** Pure: the probes' answers through the throwaway nginx as a gate verdict. */
export function reachVerdict(result: Pick<ProbeResult, 'sent' | 'arrived' | 'probes'>, host: string, errorLines: string[]): GateResult {
  const answered = result.probes.filter((p) => p.status !== null && p.status >= 200 && p.status < 300).length;
  const statuses = result.probes.map((p) => p.status ?? p.error ?? 'no answer').join(', ');
  const figures = { probesSent: result.sent, probesAnswered2xx: answered, probesInSqs: result.arrived };
  if (result.sent > 0 && answered === result.sent) {
    return { verdict: 'pass', figures, summary: `nginx with the primary render reached ${host}: ${answered} of ${result.sent} probes answered 2xx by API Gateway through it` };
  }
  const cause = errorLines.length > 0 ? `; nginx's error log: ${errorLines.slice(-2).join(' | ')}` : '';
  return {
    verdict: 'fail',
    figures,
    summary: `nginx with the primary render did not reach ${host} from this host: probes answered ${statuses} (expected 2xx)${cause}. Check resolver.addresses, the custom domain's certificate against apiGateway.trustedCertificate, and its base path mapping`,
  };
}

export async function nginxReachGate(config: MirrorConfig, options: NginxReachOptions): Promise<GateResult> {
  const templates = await loadTemplates('nginx');
  const port = await freePort();
  const harness = await writeHarness({
    // The parity log into the prefix: the probes must not enter the real one.
    render: (prefix) => renderNginx({ ...config, parityLog: { ...config.parityLog, path: `${prefix}/logs/parity.log` } }, 'primary', templates),
    listen: `127.0.0.1:${port}`,
  });
  try {
    const nginx = await startNginx(options.nginxPath, harness);
    try {
      const { sendProbes } = await import('../probe/sendProbes.js');
      const result = await sendProbes(config, {
        phase: 'primary',
        throughNginx: true,
        nginxUrl: `http://127.0.0.1:${port}${config.callback.path}`,
        count: options.count ?? 3,
        timeout: options.timeout ?? '10s',
      });
      const errorLines = (await readFile(harness.errorLogPath, 'utf8').catch(() => ''))
        .split('\n')
        .filter((l) => /\[(error|crit|alert|emerg)\]/.test(l))
        .map((l) => l.replace(/^.*?\[(error|crit|alert|emerg)\] \d+#\d+: (\*\d+ )?/, '').replace(/, client: .*$/, ''));
      return reachVerdict(result, config.apiGateway.customDomain ?? 'the custom domain', errorLines);
    } finally {
      await nginx.stop();
    }
  } finally {
    await harness.remove();
  }
}
