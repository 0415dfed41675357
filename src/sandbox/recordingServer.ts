/**
 * An HTTP or HTTPS server on 127.0.0.1 that records what reached it: method,
 * path, headers, the raw body bytes and, over TLS, the SNI name the client sent.
 * It stands in for the origin (HTTP) and for the API Gateway host (HTTPS with a
 * test-CA certificate). `delayMs` holds each answer back (a slow API Gateway);
 * `record: false` only counts, for benchmarks.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { waitFor } from '../os/childProcess.js';

interface RecordedRequest {
  method: string;
  /** Path and query as sent. */
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  /** TLS server name indication; undefined over plain HTTP or when none was sent. */
  servername?: string;
  receivedAt: number;
}

export interface RecordingServerOptions {
  tls?: { cert: string; key: string };
  /** Status to answer (default 200). */
  status?: number;
  responseBody?: string;
  delayMs?: number;
  record?: boolean;
  port?: number;
}

export interface RecordingServer {
  port: number;
  url: string;
  requests: RecordedRequest[];
  count(): number;
  /** Resolves once `n` requests have arrived in total. */
  waitForCount(n: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startRecordingServer(options: RecordingServerOptions = {}): Promise<RecordingServer> {
  const requests: RecordedRequest[] = [];
  let count = 0;
  const pending = new Set<NodeJS.Timeout>();
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => {
      if (options.record !== false) chunks.push(chunk);
    });
    req.on('end', () => {
      count++;
      if (options.record !== false) {
        const servername = (req.socket as Partial<TLSSocket>).servername;
        requests.push({
          method: req.method ?? '',
          url: req.url ?? '',
          headers: { ...req.headers },
          body: Buffer.concat(chunks),
          ...(typeof servername === 'string' ? { servername } : {}),
          receivedAt: Date.now(),
        });
      }
      const answer = () => {
        const body = options.responseBody ?? '{"ok":true}';
        res.writeHead(options.status ?? 200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
        res.end(body);
      };
      if (options.delayMs) {
        const timer = setTimeout(() => {
          pending.delete(timer);
          answer();
        }, options.delayMs);
        pending.add(timer);
      } else answer();
    });
  };
  const server: Server = options.tls ? createHttpsServer({ cert: options.tls.cert, key: options.tls.key }, handler) : createHttpServer(handler);
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    port,
    url: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    requests,
    count: () => count,
    waitForCount: (n, timeoutMs = 30_000) =>
      waitFor(() => count >= n, { timeoutMs, what: `${n} requests at 127.0.0.1:${port} (have ${count})` }),
    close: () =>
      new Promise<void>((resolve) => {
        for (const timer of pending) clearTimeout(timer);
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
