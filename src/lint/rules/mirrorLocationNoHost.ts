import type { LintRule } from '../types.js';
import { parseProxyUrl } from '../context.js';

/**
 * FINDINGS.md: proxy_set_header is inherited only where a level sets none, so a
 * server-level `Host $host` leaks into a mirror location that sets no headers of its
 * own; a location with a header set of its own sends Host `$proxy_host` (the
 * proxy_pass host: right for API Gateway) unless it sets Host itself. Through an
 * upstream block `$proxy_host` is the block's name (kubernetes/ingress-nginx#4901).
 */
export const mirrorLocationNoHost: LintRule = {
  id: 'mirror-location-no-host',
  severity: 'error',
  summary: 'mirror location sends the client\'s Host, an inherited one, or an upstream block\'s name',
  help: 'set the whole header set in the mirror location, starting with `proxy_set_header Host <API Gateway host>;` (the same variable as proxy_pass).',
  check(ctx) {
    return ctx.mirrorTargets().flatMap(({ location }) => {
      if (!ctx.sendsToGateway(location)) return [];
      const proxy = ctx.within(location, 'proxy_pass')[0];
      const url = parseProxyUrl(proxy?.directive.args[0] ?? '');
      if (!proxy || !url) return [];
      const viaUpstream = ctx.upstreams.has(url.host);
      // The header set that applies where proxy_pass is: the nearest level that sets any.
      const headers = ctx.inScope('proxy_set_header', proxy.ancestors);
      const host = headers.filter((h) => h.args[0]?.toLowerCase() === 'host').at(-1)?.args[1];
      const own = ctx.within(location, 'proxy_set_header').length > 0;
      const name = location.directive.args.join(' ');
      if (host === '$host' || host === '$http_host') {
        return [{ message: `mirror location ${name} sends Host ${host}${own ? '' : ' inherited from an enclosing level'}: API Gateway gets the origin's host name`, at: location.directive }];
      }
      if (viaUpstream && (host === undefined || host === '$proxy_host')) {
        return [{ message: `mirror location ${name} proxies to upstream ${url.host} with no Host of its own: API Gateway gets Host: ${url.host}`, at: location.directive }];
      }
      return [];
    });
  },
};

