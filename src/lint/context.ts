/**
 * What the rules ask of a parsed config: every directive with the blocks around
 * it, nginx's inheritance (a directive applies from the nearest enclosing level
 * that sets it; `proxy_set_header` is an array directive, so a level with any of
 * them inherits none from above), the locations of each server, and which
 * location a `mirror URI` lands in.
 */
import { isIP } from 'node:net';
import type { Directive } from './parse.js';

export interface Placed {
  directive: Directive;
  /** Enclosing blocks, outermost first (http, server, location, if…). */
  ancestors: Directive[];
}

export interface LocationInfo extends Placed {
  modifier: '=' | '^~' | '~' | '~*' | '' | '@';
  uri: string;
}

export interface ServerInfo {
  /** The server block, or undefined for a server-context snippet. */
  directive?: Directive;
  locations: LocationInfo[];
  mirrors: Placed[];
}

export class LintContext {
  readonly all: Placed[] = [];
  readonly servers: ServerInfo[] = [];
  readonly upstreams = new Set<string>();

  constructor(readonly tree: Directive[]) {
    this.walk(tree, []);
    const rootLocations = tree.some((d) => d.name === 'location');
    if (rootLocations) this.servers.push(this.serverOf(undefined, tree, []));
  }

  private walk(list: Directive[], ancestors: Directive[]): void {
    for (const d of list) {
      this.all.push({ directive: d, ancestors });
      if (d.name === 'upstream' && d.args[0]) this.upstreams.add(d.args[0]);
      if (d.name === 'server' && d.block && ancestors.at(-1)?.name !== 'upstream') {
        this.servers.push(this.serverOf(d, d.block, [...ancestors, d]));
      }
      if (d.block) this.walk(d.block, [...ancestors, d]);
    }
  }

  private serverOf(directive: Directive | undefined, block: Directive[], ancestors: Directive[]): ServerInfo {
    const info: ServerInfo = { ...(directive ? { directive } : {}), locations: [], mirrors: [] };
    const visit = (list: Directive[], chain: Directive[]) => {
      for (const d of list) {
        if (d.name === 'server' || d.name === 'upstream') continue;
        if (d.name === 'location' && d.block) {
          const [first, second] = d.args;
          const modifier = (['=', '^~', '~', '~*'].includes(first ?? '') ? first : first?.startsWith('@') ? '@' : '') as LocationInfo['modifier'];
          const uri = modifier && modifier !== '@' ? (second ?? '') : (first ?? '');
          info.locations.push({ directive: d, ancestors: chain, modifier, uri });
        }
        if (d.name === 'mirror' && d.args[0] !== 'off') info.mirrors.push({ directive: d, ancestors: chain });
        if (d.block) visit(d.block, [...chain, d]);
      }
    };
    visit(block, ancestors);
    return info;
  }

  /** Directives of this name that apply at `placed` (its own block, else the nearest ancestor level). */
  inScope(name: string, chain: Directive[]): Directive[] {
    for (let i = chain.length - 1; i >= 0; i--) {
      const found = (chain[i]!.block ?? []).filter((d) => d.name === name);
      if (found.length > 0) return found;
    }
    return this.tree.filter((d) => d.name === name);
  }

  /** The last value of a single-value directive in scope, e.g. `proxy_ssl_verify`. */
  valueInScope(name: string, chain: Directive[]): Directive | undefined {
    return this.inScope(name, chain).at(-1);
  }

  /**
   * The location nginx picks for a URI in a server: exact match, else the longest
   * prefix when it is `^~`, else the first matching regex, else the longest prefix.
   */
  matchLocation(server: ServerInfo, uri: string): LocationInfo | undefined {
    const exact = server.locations.find((l) => l.modifier === '=' && l.uri === uri);
    if (exact) return exact;
    const prefixes = server.locations
      .filter((l) => (l.modifier === '' || l.modifier === '^~') && uri.startsWith(l.uri))
      .sort((a, b) => b.uri.length - a.uri.length);
    if (prefixes[0]?.modifier === '^~') return prefixes[0];
    for (const l of server.locations) {
      if (l.modifier !== '~' && l.modifier !== '~*') continue;
      try {
        if (new RegExp(l.uri, l.modifier === '~*' ? 'i' : '').test(uri)) return l;
      } catch {
        // A PCRE feature JavaScript lacks: skip the location rather than guess.
      }
    }
    return prefixes[0];
  }

  /** Each location that is the target of a `mirror`, with the mirror directives that point at it. */
  mirrorTargets(): { server: ServerInfo; location: LocationInfo; from: Placed[] }[] {
    const out = new Map<Directive, { server: ServerInfo; location: LocationInfo; from: Placed[] }>();
    for (const server of this.servers) {
      for (const m of server.mirrors) {
        const uri = m.directive.args[0] ?? '';
        if (uri.includes('$')) continue;
        const location = this.matchLocation(server, uri);
        if (!location || isCatchAll(location)) continue;
        const entry = out.get(location.directive) ?? { server, location, from: [] };
        entry.from.push(m);
        out.set(location.directive, entry);
      }
    }
    return [...out.values()];
  }

  /** Every directive of this name inside `block` (at any depth), with its chain. */
  within(location: Placed, name: string): Placed[] {
    const out: Placed[] = [];
    const visit = (list: Directive[], chain: Directive[]) => {
      for (const d of list) {
        if (d.name === name) out.push({ directive: d, ancestors: chain });
        if (d.block && d.name !== 'location') visit(d.block, [...chain, d]);
      }
    };
    visit(location.directive.block ?? [], [...location.ancestors, location.directive]);
    return out;
  }

  /** The value of `set $name value` visible along a chain (nearest level first). */
  variableValue(name: string, chain: Directive[]): string | undefined {
    for (let i = chain.length - 1; i >= 0; i--) {
      const found = (chain[i]!.block ?? []).filter((d) => d.name === 'set' && d.args[0] === `$${name}`).at(-1);
      if (found) return found.args[1];
    }
    return undefined;
  }
}

export function isCatchAll(location: LocationInfo): boolean {
  return location.modifier === '' && location.uri === '/';
}

export interface ProxyUrl {
  scheme: string;
  /** As written, variables included. */
  host: string;
  port?: string;
  /** Everything after the host:port, '' when none. */
  path: string;
}

/** Variables that hold a path, so they end the host part (`https://$host_var$request_uri`). */
const pathVariables = new Set(['request_uri', 'uri', 'document_uri', 'is_args', 'args', 'query_string']);

/** Splits a proxy_pass argument; undefined when the scheme itself is a variable. */
export function parseProxyUrl(url: string): ProxyUrl | undefined {
  const scheme = /^([a-z]+):\/\//.exec(url);
  if (!scheme) return undefined;
  let i = scheme[0].length;
  let host = '';
  if (url[i] === '[') {
    const close = url.indexOf(']', i);
    host = url.slice(i, close + 1);
    i = close + 1;
  } else {
    while (i < url.length && url[i] !== '/' && url[i] !== ':') {
      const variable = /^\$\{?([A-Za-z0-9_]+)\}?/.exec(url.slice(i));
      if (variable) {
        if (pathVariables.has(variable[1]!)) break;
        host += variable[0];
        i += variable[0].length;
      } else host += url[i++];
    }
  }
  let port: string | undefined;
  if (url[i] === ':') {
    const m = /^:([^/$]+)/.exec(url.slice(i));
    if (m) {
      port = m[1];
      i += m[0].length;
    }
  }
  return { scheme: scheme[1]!, host, ...(port ? { port } : {}), path: url.slice(i) };
}

export function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '');
  return bare === 'localhost' || bare === '::1' || (isIP(bare) === 4 && bare.startsWith('127.'));
}

export const executeApiHost = /^[a-z0-9]+\.execute-api\.[a-z0-9-]+\.amazonaws\.com(?:\.cn)?$/;

/** nginx time (`500ms`, `2s`, `1m`, `60`) in milliseconds; undefined when unreadable. */
export function nginxTimeMs(value: string): number | undefined {
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000, M: 2_592_000_000, y: 31_536_000_000 };
  const parts = value.match(/\d+(?:ms|s|m|h|d|w|M|y)?/g);
  if (!parts || parts.join('') !== value) return undefined;
  return parts.reduce((sum, p) => {
    const [, n, unit] = /^(\d+)(ms|s|m|h|d|w|M|y)?$/.exec(p)!;
    return sum + Number(n) * units[unit ?? 's']!;
  }, 0);
}
