import type { LintRule } from '../types.js';
import { isLoopback, parseProxyUrl } from '../context.js';

/** FINDINGS.md: proxy_ssl_verify is off by default; callbacks carry personal data. Loopback and unix-socket upstreams are exempt. */
export const httpsProxyPassWithoutVerify: LintRule = {
  id: 'https-proxy-pass-without-verify',
  severity: 'warning',
  summary: 'external https proxy_pass without proxy_ssl_verify on',
  help: 'add `proxy_ssl_verify on;`, `proxy_ssl_trusted_certificate /etc/ssl/certs/ca-certificates.crt;` and `proxy_ssl_name <host>;`: callbacks carry phone numbers.',
  check(ctx) {
    return ctx.all
      .filter(({ directive: d }) => d.name === 'proxy_pass' && (d.args[0] ?? '').startsWith('https://'))
      .filter(({ directive: d, ancestors }) => {
        const url = parseProxyUrl(d.args[0]!);
        if (!url || isLoopback(url.host) || url.host === 'unix') return false;
        const host = ctx.proxyHost(url, ancestors);
        return !(host.kind === 'upstream' && ctx.upstreamIsLocal(host.servers));
      })
      .filter(({ ancestors }) => ctx.valueInScope('proxy_ssl_verify', ancestors)?.args[0] !== 'on')
      .map(({ directive: d }) => ({ message: `proxy_pass ${d.args[0]} does not verify the certificate (proxy_ssl_verify is off)`, at: d }));
  },
};
