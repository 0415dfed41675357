/**
 * Value shapes that may reach an nginx config. Each is a whitelist: a value that
 * matches can never close a directive (`;`), open or close a block (`{` `}`),
 * break quoting (`"` `'`), start a comment (`#`), expand a variable (`$`) or
 * split an argument (whitespace, control characters).
 */
import { isIP } from 'node:net';

/** RFC 1123 host name: labels of letters, digits and hyphens. */
export const hostNamePattern =
  /^(?=.{1,253}$)(?!-)[A-Za-z0-9-]{1,63}(?<!-)(?:\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*$/;

/** A URI path nginx matches literally: RFC 3986 pchar minus `%`, `;`, `$`, quotes. */
export const uriPathPattern = /^\/(?:[A-Za-z0-9._~!*()@:+,=-]+\/?)*$/;

/** API Gateway resource path segments: letters, digits, `.`, `_`, `-`. */
export const resourcePathPattern = /^(?:\/[A-Za-z0-9._-]+)+$/;

/** An HTTP header field name (RFC 9110 token) restricted to what API Gateway forwards. */
export const headerNamePattern = /^[A-Za-z0-9][A-Za-z0-9-]{0,63}$/;

/** nginx time: `500ms`, `10s`, `1m30s`, bare seconds. */
export const durationPattern = /^(?:\d{1,6}(?:ms|s|m|h|d)){1,4}$|^\d{1,6}$/;

/** nginx size: `64k`, `1m`, bytes. */
export const sizePattern = /^\d{1,9}[kKmM]?$/;

/** An absolute file path without characters nginx would treat as syntax. */
export const filePathPattern = /^\/(?:[A-Za-z0-9._@+=,-]+\/?)+$/;

const durationUnitsMs: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Milliseconds in an nginx duration; bare numbers are seconds (nginx's rule). */
export function durationToMs(value: string): number {
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  let total = 0;
  for (const [, digits, unit] of value.matchAll(/(\d+)(ms|s|m|h|d)/g)) {
    total += Number(digits) * (durationUnitsMs[unit!] ?? 0);
  }
  return total;
}

/** Bytes in an nginx size (16k, 1m, 4096). */
export function sizeToBytes(value: string): number {
  const unit = value.at(-1)?.toLowerCase();
  const multiplier = unit === 'k' ? 1024 : unit === 'm' ? 1024 * 1024 : 1;
  return Number.parseInt(value, 10) * multiplier;
}

export interface HostPort {
  host: string;
  port?: number;
}

/**
 * `host`, `host:port`, `[v6]` or `[v6]:port`, with host an IP address. A resolver
 * named by a host name would itself need a resolver, at load time.
 */
export function parseResolverAddress(value: string): HostPort | undefined {
  const bracketed = /^\[([0-9A-Fa-f:.]+)\](?::(\d{1,5}))?$/.exec(value);
  if (bracketed) {
    const [, host, port] = bracketed;
    if (isIP(host!) !== 6) return undefined;
    return withPort(host!, port);
  }
  const plain = /^([0-9.]+)(?::(\d{1,5}))?$/.exec(value);
  if (plain) {
    const [, host, port] = plain;
    if (isIP(host!) !== 4) return undefined;
    return withPort(host!, port);
  }
  return undefined;
}

function withPort(host: string, port: string | undefined): HostPort | undefined {
  if (port === undefined) return { host };
  const n = Number(port);
  return n >= 1 && n <= 65535 ? { host, port: n } : undefined;
}

export interface UpstreamUrl {
  scheme: 'http' | 'https';
  host: string;
  port?: number;
  /** True for an IP literal, false for a host or `upstream {}` block name. */
  isAddress: boolean;
}

/** `http(s)://host[:port]` with no path: the origin nginx proxies callbacks to today. */
export function parseUpstreamUrl(value: string): UpstreamUrl | undefined {
  const match = /^(https?):\/\/(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?\/?$/.exec(value);
  if (!match) return undefined;
  const [, scheme, rawHost, port] = match;
  const host = rawHost!;
  const bare = host.startsWith('[') ? host.slice(1, -1) : host;
  const isAddress = isIP(bare) !== 0;
  if (host.startsWith('[') && isIP(bare) !== 6) return undefined;
  if (!isAddress && (/^[0-9.]+$/.test(host) || !hostNamePattern.test(host))) return undefined;
  const parsed = withPort(host, port);
  if (!parsed) return undefined;
  return { scheme: scheme as 'http' | 'https', ...parsed, isAddress };
}

