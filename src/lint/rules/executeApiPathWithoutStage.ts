import type { LintRule } from '../types.js';
import { executeApiHost, parseProxyUrl } from '../context.js';

/**
 * FINDINGS.md: on the execute-api host the path must start with the stage, else
 * API Gateway answers 403 Missing Authentication Token. `https://host$request_uri`
 * drops the stage; `https://host/$request_uri` doubles the slash; the seed's
 * `https://host/dev$request_uri` carries the stage `dev` ($request_uri starts with `/`).
 */
export const executeApiPathWithoutStage: LintRule = {
  id: 'execute-api-path-without-stage',
  severity: 'error',
  summary: 'proxy_pass to an execute-api host whose path has no stage',
  help: 'write the stage and resource into the path: `proxy_pass https://$target/{stage}{resourcePath}$is_args$args;` (403 Missing Authentication Token otherwise).',
  check(ctx) {
    return ctx.all
      .filter(({ directive: d }) => d.name === 'proxy_pass')
      .flatMap(({ directive: d, ancestors }) => {
        const url = parseProxyUrl(d.args[0] ?? '');
        if (!url) return [];
        const variable = /^\$\{?([A-Za-z0-9_]+)\}?$/.exec(url.host)?.[1];
        const named = variable ? ctx.variableValue(variable, ancestors) : url.host;
        // Through an upstream block, the servers tell which host the path goes to.
        const servers = named ? ctx.upstreamServers.get(named)?.map((s) => s.replace(/:\d+$/, '')) : undefined;
        const host = servers?.find((s) => executeApiHost.test(s)) ?? named;
        if (!host || !executeApiHost.test(host)) return [];
        const path = url.path;
        // A literal first segment is the stage, whatever follows it (`/`, a variable, nothing).
        const stage = /^\/[A-Za-z0-9_-]+(?:\/|\$|$)/.test(path);
        if (!stage) {
          return [{ message: `proxy_pass ${d.args[0]} sends no stage to ${host}: API Gateway answers 403 Missing Authentication Token`, at: d }];
        }
        return [];
      });
  },
};
