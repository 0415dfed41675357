import type { LintRule } from '../types.js';
import { executeApiHost, parseProxyUrl } from '../context.js';

/**
 * FINDINGS.md: on the execute-api host the path must start with the stage, else
 * API Gateway answers 403 Missing Authentication Token. `https://host$request_uri`
 * drops the stage; `https://host/$request_uri` doubles the slash.
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
        const host = variable ? ctx.variableValue(variable, ancestors) : url.host;
        if (!host || !executeApiHost.test(host)) return [];
        const path = url.path;
        const stage = /^\/[A-Za-z0-9_-]+(?:\/|$)/.test(path);
        if (path === '' || path === '/' || !stage || /^\/\$/.test(path) || /^\$/.test(path)) {
          return [{ message: `proxy_pass ${d.args[0]} sends no stage to ${host}: API Gateway answers 403 Missing Authentication Token`, at: d }];
        }
        return [];
      });
  },
};
