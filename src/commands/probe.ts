/**
 * `mirror probe`: the config loaded (or handed in by the demo), the probes sent
 * and timed into SQS by src/probe/sendProbes.ts, reported.
 */
import { loadConfig } from '../config/load.js';
import { probeAttribute } from '../wire/contract.js';
import { probeLimits, sendProbes, type ProbeOptions, type ProbeResult } from '../probe/sendProbes.js';

export type { ProbeOptions } from '../probe/sendProbes.js';

export async function runProbe(options: ProbeOptions): Promise<ProbeResult> {
  probeLimits(options);
  const { config: _path, loaded, ...probeOptions } = options;
  const config = loaded ?? (await loadConfig(options.config)).config;
  return sendProbes(config, probeOptions);
}

export function formatProbeText(result: ProbeResult): string {
  const lines = [
    `${result.verdict === 'arrived' ? 'PASS' : 'FAIL'}: ${result.arrived} of ${result.sent} probes arrived in SQS within ${result.timeoutMs / 1000} s (${result.phase}, ${result.throughNginx ? 'through nginx' : 'straight to API Gateway'})`,
    `  target ${result.url}`,
    `  run ${result.run} (REFKEY mirror-probe-${result.run}-N, attribute ${probeAttribute})`,
  ];
  for (const p of result.probes) {
    const status = p.status === null ? `no answer (${p.error ?? 'error'})` : `HTTP ${p.status}`;
    lines.push(`  #${p.seq} ${status}  ${p.roundTripMs === null ? 'NOT SEEN' : `seen after ${p.roundTripMs} ms`}`);
  }
  return lines.join('\n');
}
