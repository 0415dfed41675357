import { isIP } from 'node:net';
import type { LintRule } from '../types.js';
import { parseProxyUrl } from '../context.js';

/** FINDINGS.md: a literal host is resolved once at load; nginx -t needs DNS; the addresses change. */
export const proxyPassLiteralAwsHost: LintRule = {
  id: 'proxy-pass-literal-aws-host',
  severity: 'warning',
  summary: 'literal API Gateway (or other AWS) host name in proxy_pass',
  help: 'put the host in a variable (`set $target "host"; proxy_pass https://$target/...;`) with a resolver in scope, so nginx resolves it at run time and honours the TTL.',
  check(ctx) {
    const mirrorTargets = new Set(ctx.mirrorTargets().map((t) => t.location.directive));
    return ctx.all
      .filter(({ directive: d }) => d.name === 'proxy_pass')
      .flatMap((placed) => {
        const url = parseProxyUrl(placed.directive.args[0] ?? '');
        if (!url || url.host.includes('$') || isIP(url.host.replace(/^\[|\]$/g, '')) || url.host === 'localhost' || ctx.upstreams.has(url.host)) return [];
        const aws = /\.amazonaws\.com(?:\.cn)?$/.test(url.host);
        const inMirror = placed.ancestors.some((a) => mirrorTargets.has(a));
        if (!aws && !inMirror) return [];
        return [{
          message: `proxy_pass names ${url.host} literally: nginx resolves it once at load time (nginx -t fails without DNS) and keeps the addresses while API Gateway's change`,
          at: placed.directive,
        }];
      });
  },
};
