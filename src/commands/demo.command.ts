/** `mirror demo`'s flags and output; the work is in ./demo.ts. */
import { Option } from 'commander';
import { UsageError } from '../errors.js';
import { configOption, defineCommand, jsonOption, option } from './define.js';
import type { DemoResult } from './demo.js';

interface DemoFlags {
  rate: string;
  soak: string;
  listen?: string;
  nginx?: string;
  keep?: boolean;
  config?: string;
  consumer?: boolean;
  transport?: 'nginx' | 'ship';
}

export const demoCommand = defineCommand<DemoFlags, [], DemoResult>({
  name: 'demo',
  description:
    'the whole migration on this machine: sandbox, steady callbacks, off -> shadow -> shadow-domain -> primary -> direct through gated cutover advances, one refused advance and its rollback',
  options: [
    option('--rate <n>', 'callbacks per second', '20'),
    option('--soak <duration>', 'how long traffic flows in each phase before its gate', '5s'),
    option('--listen <host:port>', 'where the metrics are served (default: 127.0.0.1 on a free port)'),
    option('--nginx <path>', 'nginx binary'),
    option('--keep', 'leave everything running after the walk, until Ctrl-C'),
    configOption('walk your own mirror.yaml (its names; only ports, resolver, queue endpoint and certificates become local)'),
    new Option('--transport <transport>', "how shadow traffic reaches API Gateway (default: the config's mirror.transport)").choices(['nginx', 'ship']),
    option('--consumer', "run a consumer beside the queue (receive and delete): the gates and the watch judge from API Gateway's answers"),
    jsonOption('print the summary as JSON'),
  ],
  // Ctrl-C stops the walk and every process it started.
  interruptible: true,
  async run(opts, _args, { signal }) {
    const { durationPattern, durationToMs } = await import('../config/nginxValues.js');
    if (!durationPattern.test(opts.soak)) throw new UsageError(`--soak ${opts.soak}: expected a duration such as 3s or 10s`);
    const { runDemo } = await import('./demo.js');
    return runDemo({
      rate: Number(opts.rate),
      soakMs: durationToMs(opts.soak),
      ...(opts.listen ? { listen: opts.listen } : {}),
      ...(opts.nginx ? { nginx: opts.nginx } : {}),
      keep: Boolean(opts.keep),
      ...(opts.consumer ? { consumer: true } : {}),
      ...(opts.transport ? { transport: opts.transport } : {}),
      ...(opts.config ? { config: opts.config } : {}),
      signal,
      progress: (line: string) => process.stderr.write(`${line}\n`),
    });
  },
  async formatText(result) {
    const { formatDemoText } = await import('./demo.js');
    return formatDemoText(result);
  },
});
