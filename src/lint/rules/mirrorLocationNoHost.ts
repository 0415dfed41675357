import type { LintRule } from '../types.js';
import { parseProxyUrl } from '../context.js';

/**
 * FINDINGS.md: proxy_set_header is inherited only where a level sets none, so a
 * server-level `Host $host` leaks into the mirror; through an upstream block the
 * default Host is the block's name (kubernetes/ingress-nginx#4901).
 */
export const mirrorLocationNoHost: LintRule = {
  id: 'mirror-location-no-host',
  severity: 'error',
  summary: 'mirror location sets no Host header of its own',
  help: 'set the whole header set in the mirror location, starting with `proxy_set_header Host <API Gateway host>;` (the same variable as proxy_pass).',
  check(ctx) {
    return ctx.mirrorTargets().flatMap(({ location }) => {
      const proxies = ctx.within(location, 'proxy_pass');
      const url = parseProxyUrl(proxies[0]?.directive.args[0] ?? '');
      // API Gateway is always https; an http mirror back to the origin may keep the vendor's Host.
      const viaUpstream = url !== undefined && ctx.upstreams.has(url.host);
      if (!url || (url.scheme !== 'https' && !viaUpstream)) return [];
      const ownHost = ctx
        .within(location, 'proxy_set_header')
        .some(({ directive: d }) => d.args[0]?.toLowerCase() === 'host' && !['$host', '$http_host'].includes(d.args[1] ?? ''));
      if (ownHost) return [];
      return [{
        message: viaUpstream
          ? `mirror location ${location.directive.args.join(' ')} proxies to upstream ${url.host} with no Host of its own: API Gateway gets Host: ${url.host}`
          : `mirror location ${location.directive.args.join(' ')} sets no Host of its own: it sends the client's Host or one inherited from the server level`,
        at: location.directive,
      }];
    });
  },
};
