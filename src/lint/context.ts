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
  /** Lookup tables built once, so matching a URI costs its length, not the number of locations. */
  index?: LocationIndex;
}

interface LocationIndex {
  exact: Map<string, LocationInfo>;
  prefix: Map<string, LocationInfo>;
  regexes: { location: LocationInfo; regex: RegExp | undefined }[];
}

/**
 * Where a proxy_pass URL's host comes from at run time, as far as the config tells:
 * an address (IP literal, `unix:` socket, or a variable nginx fills with one), an
 * `upstream {}` block (explicit, or implicit from a literal proxy_pass elsewhere),
 * a host name nginx must resolve, or a variable whose value cannot be known here.
 */
export type ProxyHost =
  | { kind: 'address'; host: string }
  | { kind: 'upstream'; host: string; servers: string[] }
  | { kind: 'name'; host: string }
  | { kind: 'unknown'; host: string };

export class LintContext {
  readonly all: Placed[] = [];
  readonly servers: ServerInfo[] = [];
  readonly upstreams = new Set<string>();
  /** Each `upstream {}` block's `server` addresses, by block name. */
  readonly upstreamServers = new Map<string, string[]>();
  /** `host:port` of every literal proxy_pass: nginx makes each an implicit upstream that a run-time URL with the same host and port reuses. */
  readonly implicitUpstreams = new Set<string>();
  /** `map $from $to {}` values by the variable they set (`to`, without `$`). */
  readonly mapValues = new Map<string, string[]>();
  private mirrorTargetsMemo: ReturnType<LintContext['computeMirrorTargets']> | undefined;

  constructor(readonly tree: Directive[]) {
    this.walk(tree, []);
    const rootLocations = tree.some((d) => d.name === 'location');
    if (rootLocations) this.servers.push(this.serverOf(undefined, tree, []));
  }

  private walk(list: Directive[], ancestors: Directive[]): void {
    for (const d of list) {
      this.all.push({ directive: d, ancestors });
      if (d.name === 'upstream' && d.args[0]) {
        this.upstreams.add(d.args[0]);
        this.upstreamServers.set(d.args[0], (d.block ?? []).filter((s) => s.name === 'server' && s.args[0]).map((s) => s.args[0]!));
      }
      if (d.name === 'map' && d.block && d.args[1]?.startsWith('$')) {
        const values = d.block.filter((e) => !['hostnames', 'volatile', 'include'].includes(e.name) && e.args.length > 0).map((e) => e.args.at(-1)!);
        this.mapValues.set(d.args[1].slice(1).replace(/^\{|\}$/g, ''), values);
      }
      if (d.name === 'proxy_pass' && d.args[0] && !d.args[0].includes('$')) {
        const url = parseProxyUrl(d.args[0]);
        if (url) this.implicitUpstreams.add(`${url.host}:${url.port ?? (url.scheme === 'https' ? '443' : '80')}`);
      }
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
      const found = this.byName(chain[i]!.block ?? [], name);
      if (found.length > 0) return found;
    }
    return this.byName(this.tree, name);
  }

  private readonly blockIndex = new WeakMap<Directive[], Map<string, Directive[]>>();

  /**
   * The directives of one name directly in a block, from an index built once per
   * block: a server with 20,000 locations is asked this for every location, and
   * filtering it each time made lint quadratic.
   */
  byName(block: Directive[], name: string): Directive[] {
    // A small block is cheaper to scan than to index (a location has a dozen directives).
    if (block.length < 32) return block.filter((d) => d.name === name);
    let index = this.blockIndex.get(block);
    if (!index) {
      index = new Map();
      for (const d of block) {
        const list = index.get(d.name);
        if (list) list.push(d);
        else index.set(d.name, [d]);
      }
      this.blockIndex.set(block, index);
    }
    return index.get(name) ?? [];
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
    const index = (server.index ??= indexLocations(server.locations));
    const exact = index.exact.get(uri);
    if (exact) return exact;
    let longest: LocationInfo | undefined;
    for (let end = uri.length; end >= 0 && !longest; end--) longest = index.prefix.get(uri.slice(0, end));
    if (longest?.modifier === '^~') return longest;
    for (const { location, regex } of index.regexes) {
      // A PCRE feature JavaScript lacks leaves regex undefined: skip the location rather than guess.
      if (regex?.test(uri)) return location;
    }
    return longest;
  }

  /** Each location that is the target of a `mirror`, with the mirror directives that point at it. */
  mirrorTargets(): { server: ServerInfo; location: LocationInfo; from: Placed[] }[] {
    return (this.mirrorTargetsMemo ??= this.computeMirrorTargets());
  }

  private computeMirrorTargets(): { server: ServerInfo; location: LocationInfo; from: Placed[] }[] {
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

  /**
   * What the host of a proxy_pass URL is at run time. A variable is followed
   * through `set` in the chain and through `map`; nginx fills a few variables with
   * addresses. With `$` anywhere in the URL nginx looks the host up at run time
   * among the upstream blocks (explicit, and the implicit ones literal proxy_pass
   * URLs create) and else resolves it (ngx_http_upstream_init_request).
   */
  proxyHost(url: ProxyUrl, chain: Directive[]): ProxyHost {
    const classify = (host: string, port: string | undefined): ProxyHost => {
      const bare = host.replace(/^\[|\]$/g, '');
      if (host === 'unix' || isIP(bare) !== 0) return { kind: 'address', host };
      const servers = this.upstreamServers.get(host);
      if (servers) return { kind: 'upstream', host, servers };
      if (this.implicitUpstreams.has(`${host}:${port ?? (url.scheme === 'https' ? '443' : '80')}`)) return { kind: 'upstream', host, servers: [`${host}:${port ?? ''}`] };
      return { kind: 'name', host };
    };
    const variable = /^\$\{?([A-Za-z0-9_]+)\}?$/.exec(url.host)?.[1];
    if (!url.host.includes('$')) return classify(url.host, url.port);
    if (variable && addressVariables.has(variable)) return { kind: 'address', host: url.host };
    const values = variable ? (this.variableValueAll(variable, chain) ?? this.mapValues.get(variable)) : undefined;
    if (!values || values.length === 0 || values.some((v) => v.includes('$'))) return { kind: 'unknown', host: url.host };
    const kinds = values.map((v) => {
      const m = /^(\[[^\]]+\]|[^:/]+)(?::(\d+))?/.exec(v);
      return m ? classify(m[1]!, m[2] ?? url.port) : ({ kind: 'unknown', host: v } as ProxyHost);
    });
    return kinds.find((k) => k.kind === 'name' || k.kind === 'unknown') ?? kinds[0]!;
  }

  /** Every value a `set $name` in the chain gives (the nearest level that sets it). */
  private variableValueAll(name: string, chain: Directive[]): string[] | undefined {
    for (let i = chain.length - 1; i >= 0; i--) {
      const found = this.byName(chain[i]!.block ?? [], 'set').filter((d) => d.args[0] === `$${name}`).map((d) => d.args[1] ?? '');
      if (found.length > 0) return found;
    }
    return undefined;
  }

  /**
   * Whether a mirror target location sends the copy on to API Gateway (or anything
   * over https / to AWS), which is what the mirror rules are about. A log-only
   * mirror (`return 204`, or a plain-http log backend as in the mirror module's
   * own documentation) is not judged by them.
   */
  sendsToGateway(location: Placed): boolean {
    return this.within(location, 'proxy_pass').some(({ directive: d, ancestors }) => {
      const url = parseProxyUrl(d.args[0] ?? '');
      if (!url) return false;
      if (url.scheme === 'https') return true;
      const host = this.proxyHost(url, ancestors);
      if (host.kind === 'upstream') return host.servers.some((s) => awsHost.test(s.replace(/:\d+$/, '')) || s.endsWith(':443'));
      return awsHost.test(host.host) || (host.kind === 'name' && this.variableHolds(url.host, ancestors, awsHost));
    });
  }

  private variableHolds(host: string, chain: Directive[], pattern: RegExp): boolean {
    const variable = /^\$\{?([A-Za-z0-9_]+)\}?$/.exec(host)?.[1];
    const value = variable ? this.variableValue(variable, chain) : undefined;
    return value !== undefined && pattern.test(value);
  }

  /** True when every server of an upstream block is on this host (loopback or a unix socket): no TLS name or certificate concern. */
  upstreamIsLocal(servers: string[]): boolean {
    return servers.length > 0 && servers.every((s) => s.startsWith('unix:') || isLoopback(s.replace(/:\d+$/, '')));
  }

  /** The value of `set $name value` visible along a chain (nearest level first). */
  variableValue(name: string, chain: Directive[]): string | undefined {
    for (let i = chain.length - 1; i >= 0; i--) {
      const found = this.byName(chain[i]!.block ?? [], 'set').filter((d) => d.args[0] === `$${name}`).at(-1);
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

function indexLocations(locations: LocationInfo[]): LocationIndex {
  const index: LocationIndex = { exact: new Map(), prefix: new Map(), regexes: [] };
  for (const l of locations) {
    if (l.modifier === '=') {
      if (!index.exact.has(l.uri)) index.exact.set(l.uri, l);
    } else if (l.modifier === '' || l.modifier === '^~') {
      if (!index.prefix.has(l.uri)) index.prefix.set(l.uri, l);
    } else if (l.modifier === '~' || l.modifier === '~*') {
      let regex: RegExp | undefined;
      try {
        regex = new RegExp(l.uri, l.modifier === '~*' ? 'i' : '');
      } catch {
        regex = undefined;
      }
      index.regexes.push({ location: l, regex });
    }
  }
  return index;
}

/** Variables nginx fills with an IP address (ngx_http_variables.c), so a URL built from them needs no resolver. */
const addressVariables = new Set(['server_addr', 'remote_addr', 'realip_remote_addr', 'binary_remote_addr']);

/** Any AWS host name (execute-api, a VPC endpoint, ELB…). */
export const awsHost = /\.amazonaws\.com(?:\.cn)?$/;

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
      const variable = url[i] === '$' ? /^\$\{?([A-Za-z0-9_]+)\}?/.exec(url.slice(i)) : null;
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
