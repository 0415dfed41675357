import type { LintRule } from '../types.js';
import { parseProxyUrl } from '../context.js';

/**
 * FINDINGS.md nginx fact 1 and "Measured 2026-11-30": with a variable anywhere in
 * the proxy_pass URL (the host, or only the path as in the seed's
 * `https://….amazonaws.com/dev$request_uri`) nginx evaluates the URL per request
 * and resolves the host at run time; without a resolver every request fails with
 * "no resolver defined to resolve". No lookup happens when the host is an address
 * or names an upstream block (checked with nginx 1.22: `$server_addr:PORT`, an
 * upstream name, a `set` IP all proxy without a resolver).
 */
export const proxyPassVariableWithoutResolver: LintRule = {
  id: 'proxy-pass-variable-without-resolver',
  severity: 'error',
  summary: 'variable in a proxy_pass URL whose host nginx must resolve, with no resolver in scope',
  help: 'add `resolver <VPC resolver, e.g. 169.254.169.253> valid=10s ipv6=off;` and `resolver_timeout` to this location (or an enclosing block); nginx -t does not catch this.',
  check(ctx) {
    const out: ReturnType<LintRule['check']> = [];
    for (const { directive: d, ancestors } of ctx.all) {
      const arg = d.args[0] ?? '';
      if (d.name !== 'proxy_pass' || !arg.includes('$')) continue;
      if (ctx.inScope('resolver', ancestors).length > 0) continue;
      const url = parseProxyUrl(arg);
      const host = url ? ctx.proxyHost(url, ancestors) : undefined;
      if (host && (host.kind === 'address' || host.kind === 'upstream')) continue;
      const where = url && !url.host.includes('$') ? 'a variable in its path' : 'a variable host';
      const fails = `every request fails with "no resolver defined to resolve${host?.kind === 'name' ? ` ${host.host}` : ''}"`;
      if (host?.kind === 'name' && host.host.includes('.')) {
        out.push({ message: `proxy_pass ${arg} has ${where}, so nginx resolves ${host.host} at run time, but no resolver is in scope: ${fails}`, at: d });
      } else if (host?.kind === 'name') {
        out.push({
          message: `proxy_pass ${arg} has ${where} and no resolver is in scope: unless ${host.host} is an upstream {} defined in a file not linted here, ${fails}`,
          at: d,
          severity: 'warning',
        });
      } else {
        out.push({
          message: `proxy_pass ${arg}: the host comes from a variable whose value this config does not show; if it is a host name rather than an address or upstream, no resolver is in scope and ${fails}`,
          at: d,
          severity: 'warning',
        });
      }
    }
    return out;
  },
};
