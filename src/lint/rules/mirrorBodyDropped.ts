import type { LintRule } from '../types.js';

/**
 * The copy must carry the callback: parity compares bodies byte for byte. Only
 * mirrors that send on to API Gateway (https or AWS) are judged: dropping the body
 * is how the mirror module's own documentation builds a log-only mirror.
 */
export const mirrorBodyDropped: LintRule = {
  id: 'mirror-body-dropped',
  severity: 'error',
  summary: '`mirror_request_body off` or a blanked body on a mirror to API Gateway',
  help: 'remove `mirror_request_body off`, `proxy_pass_request_body off` and `proxy_set_header Content-Length ""` from the callback and mirror locations.',
  check(ctx) {
    const out: ReturnType<LintRule['check']> = [];
    for (const { location, from } of ctx.mirrorTargets()) {
      if (!ctx.sendsToGateway(location)) continue;
      for (const m of from) {
        const off = ctx.valueInScope('mirror_request_body', m.ancestors);
        if (off?.args[0] === 'off') out.push({ message: `mirror_request_body off: the mirror of ${m.directive.args[0]} goes without the callback body`, at: off });
      }
      const chain = [...location.ancestors, location.directive];
      const passBody = ctx.valueInScope('proxy_pass_request_body', chain);
      if (passBody?.args[0] === 'off') out.push({ message: 'proxy_pass_request_body off in the mirror location: API Gateway gets no body', at: passBody });
      for (const { directive: h } of ctx.within(location, 'proxy_set_header')) {
        if (h.args[0]?.toLowerCase() === 'content-length' && (h.args[1] ?? '') === '') {
          out.push({ message: 'proxy_set_header Content-Length "" in the mirror location: the body is dropped', at: h });
        }
      }
    }
    return out;
  },
};
