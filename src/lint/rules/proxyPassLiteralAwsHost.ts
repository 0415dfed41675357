import type { LintRule } from '../types.js';
import { awsHost, parseProxyUrl } from '../context.js';

/**
 * FINDINGS.md: only a wholly literal proxy_pass URL (no `$` anywhere) or an
 * `upstream {}` server is resolved once, when nginx loads the config; nginx -t then
 * needs DNS, and the addresses are kept while API Gateway's change. A URL with any
 * variable is resolved at run time instead (see proxy-pass-variable-without-resolver).
 */
export const proxyPassLiteralAwsHost: LintRule = {
  id: 'proxy-pass-literal-aws-host',
  severity: 'warning',
  summary: 'AWS host name resolved once at load time (literal proxy_pass URL or upstream server)',
  help: 'put the host in a variable (`set $target "host"; proxy_pass https://$target/...;`) with a resolver in scope, so nginx resolves it at run time and honours the TTL.',
  check(ctx) {
    const out: ReturnType<LintRule['check']> = [];
    for (const { directive: d, ancestors } of ctx.all) {
      if (d.name === 'proxy_pass' && !(d.args[0] ?? '').includes('$')) {
        const url = parseProxyUrl(d.args[0] ?? '');
        if (url && awsHost.test(url.host) && !ctx.upstreams.has(url.host)) {
          out.push({ message: `proxy_pass names ${url.host} in a literal URL: nginx resolves it once at load time (nginx -t fails without DNS) and keeps the addresses while API Gateway's change`, at: d });
        }
      }
      if (d.name === 'server' && ancestors.at(-1)?.name === 'upstream') {
        const host = (d.args[0] ?? '').replace(/:\d+$/, '');
        if (awsHost.test(host)) {
          out.push({ message: `upstream ${ancestors.at(-1)!.args[0]} server ${host}: nginx 1.22 resolves it once at start and keeps the addresses while API Gateway's change`, at: d });
        }
      }
    }
    return out;
  },
};
