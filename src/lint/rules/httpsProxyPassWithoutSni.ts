import { isIP } from 'node:net';
import type { LintRule } from '../types.js';
import { parseProxyUrl } from '../context.js';

/** FINDINGS.md nginx fact 5: proxy_ssl_server_name is off by default; API Gateway needs SNI. */
export const httpsProxyPassWithoutSni: LintRule = {
  id: 'https-proxy-pass-without-sni',
  severity: 'error',
  summary: 'https proxy_pass without proxy_ssl_server_name on',
  help: 'add `proxy_ssl_server_name on;` and `proxy_ssl_name <host>;` so nginx sends SNI; API Gateway (and most TLS endpoints) fail the handshake without it.',
  check(ctx) {
    return ctx.all
      .filter(({ directive: d }) => d.name === 'proxy_pass' && (d.args[0] ?? '').startsWith('https://'))
      .filter(({ directive: d }) => {
        const host = parseProxyUrl(d.args[0]!)?.host ?? '';
        return !isIP(host.replace(/^\[|\]$/g, ''));
      })
      .filter(({ ancestors }) => ctx.valueInScope('proxy_ssl_server_name', ancestors)?.args[0] !== 'on')
      .map(({ directive: d }) => ({ message: `proxy_pass ${d.args[0]} sends no SNI: proxy_ssl_server_name is not on here`, at: d }));
  },
};
