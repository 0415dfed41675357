import type { LintRule } from '../types.js';

/** FINDINGS.md nginx fact 3: $request_id is shared with the subrequest: the exact join key. */
export const mirrorWithoutRequestId: LintRule = {
  id: 'mirror-without-request-id',
  severity: 'warning',
  summary: 'mirror to API Gateway without the request-id header',
  help: 'add `proxy_set_header X-Mirror-Request-Id $request_id;` to the mirror location and log $request_id in the callback location, so parity can join exactly.',
  check(ctx) {
    return ctx.mirrorTargets().flatMap(({ location }) => {
      const https = ctx.within(location, 'proxy_pass').some(({ directive: d }) => (d.args[0] ?? '').startsWith('https://'));
      if (!https) return [];
      const headers = ctx.inScope('proxy_set_header', [...location.ancestors, location.directive]);
      if (headers.some((h) => (h.args[1] ?? '').includes('$request_id'))) return [];
      return [{ message: `mirror location ${location.directive.args.join(' ')} sends no header carrying $request_id: parity cannot join callbacks to SQS messages exactly`, at: location.directive }];
    });
  },
};
