/** `mirror probe`'s flags and output; the work is in ./probe.ts. */
import { configOption, defineCommand, jsonOption, option, phaseOption } from './define.js';
import type { ProbeOptions } from './probe.js';
import type { ProbeResult } from '../probe/sendProbes.js';

type ProbeFlags = Omit<ProbeOptions, 'count'> & { count: string };

export const probeCommand = defineCommand<ProbeFlags, [], ProbeResult>({
  name: 'probe',
  description: 'send marked synthetic callbacks and time them into SQS; exit 1 when any did not arrive',
  options: [
    configOption(),
    phaseOption("phase whose API Gateway URL is probed (default: the config's phase)"),
    option('--count <n>', 'probes to send', '3'),
    option('--through-nginx', 'send through nginx (the origin gets them too) instead of straight to API Gateway'),
    option('--nginx-url <url>', 'with --through-nginx: where nginx takes callbacks (default http://127.0.0.1{callback.path})'),
    option('--timeout <duration>', 'how long to wait for each probe in SQS', '30s'),
    option('--connect-to <host:port>', 'connect here instead of resolving the API Gateway host (Host and SNI unchanged)'),
    option('--ca <file>', "CA bundle for API Gateway's certificate (default: apiGateway.trustedCertificate)"),
    jsonOption(),
  ],
  async run(opts) {
    const { runProbe } = await import('./probe.js');
    return runProbe({ ...opts, count: Number(opts.count) });
  },
  async formatText(result) {
    const { formatProbeText } = await import('./probe.js');
    return formatProbeText(result);
  },
});
