/**
 * Network faults between the shipper and the gateway stand-in, for the fault
 * tests: a TCP pass-through that can go down (connections refused, open ones
 * reset) and come back on the same port, and an HTTPS front that answers API
 * Gateway's throttling 429 before passing a request on.
 */
import { createServer as createTcpServer, connect, type Server, type Socket } from 'node:net';
import { createServer as createHttpsServer } from 'node:https';
import { Agent, request } from 'undici';

export interface SwitchablePath {
  port: number;
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

export async function startSwitchablePath(upstreamPort: number): Promise<SwitchablePath> {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      const s = createTcpServer((client) => {
        const upstream = connect(upstreamPort, '127.0.0.1');
        for (const socket of [client, upstream]) {
          sockets.add(socket);
          socket.on('close', () => sockets.delete(socket));
          socket.on('error', () => undefined);
        }
        client.pipe(upstream).pipe(client);
      });
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => {
        port = (s.address() as { port: number }).port;
        server = s;
        resolve();
      });
    });
  const down = async () => {
    const s = server;
    server = undefined;
    for (const socket of sockets) socket.resetAndDestroy();
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  };
  await listen();
  return { port, down, up: listen, close: down };
}

/** API Gateway's throttling answer (gateway response THROTTLED). */
const throttled = { status: 429, body: '{"message":"Too Many Requests"}', errorType: 'TooManyRequestsException' };

export interface ThrottlingFront {
  port: number;
  /** 429s answered, by request id. */
  throttledById: Map<string, number>;
  close(): Promise<void>;
}

/** Answers 429 to the first `throttleEach` attempts of every request id, then passes the request to the stand-in. */
export async function startThrottlingFront(options: {
  cert: string;
  key: string;
  ca: string;
  /** The name the stand-in's certificate carries (the execute-api host). */
  servername: string;
  upstreamPort: number;
  throttleEach: number;
}): Promise<ThrottlingFront> {
  const agent = new Agent({ connect: { ca: options.ca, servername: options.servername } });
  const throttledById = new Map<string, number>();
  const server = createHttpsServer({ cert: options.cert, key: options.key }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const id = String(req.headers['x-mirror-request-id'] ?? '');
      const seen = throttledById.get(id) ?? 0;
      if (seen < options.throttleEach) {
        throttledById.set(id, seen + 1);
        res.writeHead(throttled.status, { 'content-type': 'application/json', 'x-amzn-errortype': throttled.errorType }).end(throttled.body);
        return;
      }
      // Names in the case they came in (rawHeaders): the stand-in, as API Gateway's mapping
      // template, looks the request-id header up case-sensitively (docs/apigw.md, header names).
      const headers: Record<string, string> = {};
      for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
        if (!['connection', 'content-length', 'transfer-encoding'].includes(req.rawHeaders[i]!.toLowerCase())) headers[req.rawHeaders[i]!] = req.rawHeaders[i + 1]!;
      }
      request(`https://127.0.0.1:${options.upstreamPort}${req.url}`, { method: 'POST', headers, body: Buffer.concat(chunks), dispatcher: agent })
        .then(async (answer) => {
          const body = await answer.body.text();
          res.writeHead(answer.statusCode, { 'content-type': String(answer.headers['content-type'] ?? 'application/json') }).end(body);
        })
        .catch(() => res.writeHead(502).end());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    port: (server.address() as { port: number }).port,
    throttledById,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await agent.close();
    },
  };
}
