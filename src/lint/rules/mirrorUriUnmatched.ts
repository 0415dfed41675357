import type { LintRule } from '../types.js';
import { isCatchAll } from '../context.js';

/** FINDINGS.md: `mirror` takes a literal URI; `mirror $var;` passes nginx -t and mirrors nothing useful. */
export const mirrorUriUnmatched: LintRule = {
  id: 'mirror-uri-unmatched',
  severity: 'error',
  summary: '`mirror` URI that matches no location, or `mirror` with a variable',
  help: 'point `mirror` at the literal URI of an `internal` exact-match location in the same server; sample inside that location instead of using a variable.',
  check(ctx) {
    return ctx.servers.flatMap((server) =>
      server.mirrors.flatMap(({ directive: m }) => {
        const uri = m.args[0] ?? '';
        if (uri.includes('$')) {
          return [{ message: `mirror ${uri}: nginx takes the URI literally (no variables), so this mirrors to a location named "${uri}"`, at: m }];
        }
        const location = ctx.matchLocation(server, uri);
        if (!location) return [{ message: `mirror ${uri} matches no location in this server: every mirrored request gets 404`, at: m }];
        if (isCatchAll(location)) {
          return [{ message: `mirror ${uri} matches only the catch-all location /: the copy goes wherever / goes, not to API Gateway`, at: m }];
        }
        return [];
      }),
    );
  },
};
