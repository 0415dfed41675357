import type { LintRule } from '../types.js';

/** FINDINGS.md nginx fact 9: without `internal` anyone can POST to the mirror location, and through it to API Gateway (log-only mirrors are not judged). */
export const mirrorTargetNotInternal: LintRule = {
  id: 'mirror-target-not-internal',
  severity: 'error',
  summary: 'mirror target location is not internal',
  help: 'add `internal;` to the mirror location (and make it an exact match, `location = /_mirror/...`), so requests from outside get 404.',
  check(ctx) {
    return ctx
      .mirrorTargets()
      .filter(({ location }) => ctx.sendsToGateway(location))
      .filter(({ location }) => !(location.directive.block ?? []).some((d) => d.name === 'internal'))
      .map(({ location }) => ({
        message: `location ${location.directive.args.join(' ')} is the target of a mirror but is not internal: anyone can send to API Gateway through it`,
        at: location.directive,
      }));
  },
};
