import type { LintRule } from '../types.js';
import { nginxTimeMs } from '../context.js';

/** FINDINGS.md nginx fact 7: a slow mirror stalls the origin's keepalive connections. */
export const mirrorTimeouts: LintRule = {
  id: 'mirror-timeouts',
  severity: 'warning',
  summary: 'mirror location without connect/read timeouts, or with ones over 5 s',
  help: 'bound the mirror: `proxy_connect_timeout 1s; proxy_send_timeout 1s; proxy_read_timeout 2s;` (nginx waits for the mirror before the next request on the connection).',
  check(ctx) {
    const limit = 5_000;
    return ctx.mirrorTargets().flatMap(({ location }) => {
      if (ctx.within(location, 'proxy_pass').length === 0) return [];
      const chain = [...location.ancestors, location.directive];
      const problems: string[] = [];
      for (const name of ['proxy_connect_timeout', 'proxy_read_timeout', 'proxy_send_timeout']) {
        const d = ctx.valueInScope(name, chain);
        if (!d) {
          if (name !== 'proxy_send_timeout') problems.push(`no ${name} (default 60s)`);
          continue;
        }
        const ms = nginxTimeMs(d.args[0] ?? '');
        if (ms === undefined || ms > limit) problems.push(`${name} ${d.args[0]} is over 5s`);
      }
      if (problems.length === 0) return [];
      return [{ message: `mirror location ${location.directive.args.join(' ')}: ${problems.join('; ')}: a slow mirror target (API Gateway or any other) stalls the origin`, at: location.directive }];
    });
  },
};
