import type { LintRule } from '../types.js';
import { isLoopback, parseProxyUrl } from '../context.js';

/**
 * FINDINGS.md nginx fact 5: proxy_ssl_server_name is off by default; API Gateway
 * needs SNI. Through an `upstream {}` block the SNI name is `$proxy_host`, the
 * block's name, unless proxy_ssl_name says otherwise (kubernetes/ingress-nginx#4901).
 * Loopback and unix-socket upstreams are this host's own business.
 */
export const httpsProxyPassWithoutSni: LintRule = {
  id: 'https-proxy-pass-without-sni',
  severity: 'error',
  summary: 'https proxy_pass without SNI, or with the upstream block name as SNI',
  help: 'add `proxy_ssl_server_name on;` and `proxy_ssl_name <host>;` so nginx sends the real host as SNI; API Gateway (and most TLS endpoints) fail the handshake without it.',
  check(ctx) {
    const out: ReturnType<LintRule['check']> = [];
    for (const { directive: d, ancestors } of ctx.all) {
      if (d.name !== 'proxy_pass' || !(d.args[0] ?? '').startsWith('https://')) continue;
      const url = parseProxyUrl(d.args[0]!);
      if (!url || isLoopback(url.host)) continue;
      const host = ctx.proxyHost(url, ancestors);
      if (host.kind === 'address') continue;
      if (host.kind === 'upstream' && ctx.upstreamIsLocal(host.servers)) continue;
      const sni = ctx.valueInScope('proxy_ssl_server_name', ancestors)?.args[0] === 'on';
      if (!sni) {
        out.push({ message: `proxy_pass ${d.args[0]} sends no SNI: proxy_ssl_server_name is not on here`, at: d });
      } else if (host.kind === 'upstream' && ctx.upstreams.has(host.host) && !ctx.valueInScope('proxy_ssl_name', ancestors)) {
        out.push({ message: `proxy_pass ${d.args[0]} goes through upstream ${host.host} with no proxy_ssl_name: nginx sends SNI "${host.host}" (the block's name), not ${host.servers.join(', ')}`, at: d });
      }
    }
    return out;
  },
};
