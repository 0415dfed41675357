import type { LintRule } from '../types.js';
import { parseProxyUrl } from '../context.js';

/** FINDINGS.md nginx fact 1: nginx -t passes, every request fails at run time. */
export const proxyPassVariableWithoutResolver: LintRule = {
  id: 'proxy-pass-variable-without-resolver',
  severity: 'error',
  summary: 'variable in the proxy_pass host with no resolver in scope',
  help: 'add `resolver <VPC resolver, e.g. 169.254.169.253> valid=10s ipv6=off;` and `resolver_timeout` to this location (or an enclosing block); nginx -t does not catch this.',
  check(ctx) {
    return ctx.all
      .filter(({ directive: d }) => d.name === 'proxy_pass' && (d.args[0] ?? '').includes('$'))
      .filter(({ directive: d }) => {
        const url = parseProxyUrl(d.args[0]!);
        // A variable only in the path needs no resolver; a variable scheme or host does.
        return url === undefined || url.host.includes('$');
      })
      .filter(({ ancestors }) => ctx.inScope('resolver', ancestors).length === 0)
      .map(({ directive: d }) => ({
        message: `proxy_pass ${d.args[0]} resolves its host at run time, but no resolver is in scope: every request fails with "no resolver defined to resolve"`,
        at: d,
      }));
  },
};
