/**
 * Sends one callback to API Gateway, one attempt, and says what came back. undici
 * gives the keepalive pool; its DNS interceptor resolves the host (through the
 * configured resolvers when given) and keeps each answer for its TTL, so API
 * Gateway's changing addresses are followed, and sets SNI and Host to the name
 * (undici docs, "Interceptors: dns"). The certificate is verified against the
 * configured CA bundle.
 */
import { Resolver } from 'node:dns/promises';
import { createSecureContext } from 'node:tls';
import { Agent, interceptors, type Dispatcher } from 'undici';
import { failureOfError, type AttemptResult } from './shipRetry.js';

interface GatewayRequest {
  host: string;
  port: number;
  /** Path and query. */
  path: string;
  headers: Record<string, string>;
  body: Buffer;
}

export interface GatewaySenderOptions {
  /** PEM CA bundle the certificate must chain to. */
  ca: string;
  connectTimeoutMs: number;
  requestTimeoutMs: number;
  /** DNS servers (`ip`, `ip:port`, `[v6]:port`); empty: the system's. */
  dnsServers: readonly string[];
  ipv6: boolean;
  /** Connections per address. */
  connections: number;
}

export interface GatewaySender {
  attempt(request: GatewayRequest): Promise<AttemptResult>;
  close(): Promise<void>;
}

/** API Gateway names its error in this header (x-amzn-ErrorType), e.g. `BadRequestException`. */
const errorTypeHeader = 'x-amzn-errortype';

export function createGatewaySender(options: GatewaySenderOptions): GatewaySender {
  // One secure context for every connection: given `ca` alone, each connection
  // would parse the bundle into a context of its own (tls.connect builds one per
  // call), which measured ~1 ms of CPU per connect attempt, most of a retry's cost
  // while the gateway refuses connections.
  const secureContext = createSecureContext({ ca: options.ca });
  const agent = new Agent({
    connect: { secureContext, timeout: options.connectTimeoutMs, rejectUnauthorized: true },
    connections: options.connections,
    keepAliveTimeout: 30_000,
  });
  const resolver = new Resolver();
  if (options.dnsServers.length > 0) resolver.setServers([...options.dnsServers]);
  // A TTL of 0 (dnsmasq's default for its own records) would expire the answer
  // before undici's interceptor picks from it (it then fails on a null record):
  // keep each answer at least a second.
  const ttlMs = (seconds: number) => Math.max(seconds * 1000, 1000);
  const lookup = (origin: URL, _opts: unknown, callback: (err: NodeJS.ErrnoException | null, addresses: { address: string; ttl: number; family: 4 | 6 }[]) => void) => {
    const host = origin.hostname;
    const v4 = resolver.resolve4(host, { ttl: true }).then((rs) => rs.map((r) => ({ address: r.address, ttl: ttlMs(r.ttl), family: 4 as const })));
    const v6 = options.ipv6
      ? resolver.resolve6(host, { ttl: true }).then((rs) => rs.map((r) => ({ address: r.address, ttl: ttlMs(r.ttl), family: 6 as const })), () => [])
      : Promise.resolve([]);
    Promise.all([v4, v6]).then(
      ([a, b]) => callback(null, [...a, ...b]),
      (error: NodeJS.ErrnoException) => callback(error, []),
    );
  };
  const dispatcher: Dispatcher = agent.compose(interceptors.dns({ lookup, dualStack: options.ipv6, affinity: 4 }));
  // The origin parsed once per target: the DNS interceptor takes a URL as it is and
  // would otherwise parse the string on every request.
  const origins = new Map<string, URL>();
  const originOf = (host: string, port: number) => {
    const key = `${host}:${port}`;
    let origin = origins.get(key);
    if (!origin) origins.set(key, (origin = new URL(`https://${key}`)));
    return origin;
  };
  return {
    attempt(request) {
      // dispatch with a handler that keeps the status and the error type and drops
      // the body as it comes: request() would build a readable stream per answer,
      // which is most of what an answer costs at thousands a second.
      return new Promise<AttemptResult>((resolve) => {
        let status = 0;
        let errorType = '';
        try {
          dispatcher.dispatch(
            {
              origin: originOf(request.host, request.port),
              path: request.path,
              method: 'POST',
              headers: request.headers,
              body: request.body,
              headersTimeout: options.requestTimeoutMs,
              bodyTimeout: options.requestTimeoutMs,
            },
            {
              // undici takes a handler for its current API by this method's presence.
              onRequestStart() {},
              onResponseStart(_controller, statusCode, headers) {
                // A 1xx comes before the final answer; the last status wins.
                status = statusCode;
                const named = headers[errorTypeHeader];
                errorType = Array.isArray(named) ? named.join(',') : (named ?? '');
              },
              onResponseData() {},
              onResponseEnd: () => resolve({ kind: 'answer', status, errorType }),
              onResponseError: (_controller, error) => resolve(failureOfError(error)),
            },
          );
        } catch (error) {
          resolve(failureOfError(error));
        }
      });
    },
    close: () => agent.close(),
  };
}
