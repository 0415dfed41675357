/**
 * The shipper's HTTP client against a real TLS server and a real DNS server: it
 * verifies the certificate against the configured CA only (not the system's, not
 * another CA's) and checks the name it connected to, with one secure context
 * shared by every connection.
 */
import { createServer, type Server } from 'node:https';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestCa, type TestCa } from '../../src/sandbox/testCa.js';
import { startDnsServer } from '../../src/sandbox/dnsServer.js';
import { freePort } from '../../src/os/freePort.js';
import { createGatewaySender } from '../../src/ship/gatewaySender.js';
import { waitFor } from '../../src/os/childProcess.js';

const gatewayHost = 'a1b2c3d4e5.execute-api.ap-northeast-2.amazonaws.com';
const otherHost = 'f6g7h8i9j0.execute-api.ap-northeast-2.amazonaws.com';
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

async function tlsServer(ca: TestCa): Promise<{ port: number; hosts: string[] }> {
  const hosts: string[] = [];
  const server: Server = createServer({ cert: ca.cert, key: ca.key }, (req, res) => {
    hosts.push(String(req.headers.host));
    req.resume().on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise((resolve) => server.close(resolve)));
  return { port: (server.address() as { port: number }).port, hosts };
}

async function sender(caPem: string, dnsAddress: string) {
  const s = createGatewaySender({ ca: caPem, connectTimeoutMs: 2000, requestTimeoutMs: 5000, dnsServers: [dnsAddress], ipv6: false, connections: 4 });
  cleanups.push(() => s.close());
  return s;
}

describe('the shipper HTTP client', () => {
  it('delivers over TLS verified by the configured CA, with Host and SNI the gateway name; refuses another CA and another name', async () => {
    const ca = await createTestCa([gatewayHost]);
    cleanups.push(() => ca.remove());
    const stranger = await createTestCa([gatewayHost]);
    cleanups.push(() => stranger.remove());
    // Both names resolve to the server; its certificate names only the gateway.
    const dns = await startDnsServer({ [gatewayHost]: '127.0.0.1', [otherHost]: '127.0.0.1' });
    cleanups.push(() => dns.stop());
    const server = await tlsServer(ca);
    const request = (host: string) => ({ host, port: server.port, path: '/dev/kakao-at-result', headers: { 'x-mirror-request-id': 'a'.repeat(32) }, body: Buffer.from('{}') });

    const trusting = await sender(ca.caPem, dns.address);
    // Several attempts at once: more than one connection, each verified.
    const answers = await Promise.all(Array.from({ length: 8 }, () => trusting.attempt(request(gatewayHost))));
    expect(answers.every((a) => a.kind === 'answer' && a.status === 200)).toBe(true);
    expect(new Set(server.hosts)).toEqual(new Set([`${gatewayHost}:${server.port}`]));

    expect(await (await sender(stranger.caPem, dns.address)).attempt(request(gatewayHost))).toEqual({ kind: 'failure', cause: 'tls', sent: false });
    expect(await trusting.attempt(request(otherHost))).toEqual({ kind: 'failure', cause: 'tls', sent: false });
    expect(server.hosts).toHaveLength(8);
  });

  it('puts at most `connections` attempts on the wire to one address (one per HTTP/1.1 connection); the others go as answers free one', async () => {
    const ca = await createTestCa([gatewayHost]);
    cleanups.push(() => ca.remove());
    const dns = await startDnsServer({ [gatewayHost]: '127.0.0.1' });
    cleanups.push(() => dns.stop());
    // The server holds every request until the test answers it, and counts how many it holds at once.
    let onWire = 0;
    let most = 0;
    const held: (() => void)[] = [];
    const server: Server = createServer({ cert: ca.cert, key: ca.key }, (req, res) => {
      onWire++;
      most = Math.max(most, onWire);
      req.resume().on('end', () => held.push(() => ((onWire -= 1), res.writeHead(200).end('{}'))));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => (server.closeAllConnections(), server.close(resolve))));
    const port = (server.address() as { port: number }).port;
    const s = createGatewaySender({ ca: ca.caPem, connectTimeoutMs: 2000, requestTimeoutMs: 10_000, dnsServers: [dns.address], ipv6: false, connections: 3 });
    cleanups.push(() => s.close());

    const all = Promise.all(Array.from({ length: 9 }, () => s.attempt({ host: gatewayHost, port, path: '/dev/x', headers: {}, body: Buffer.from('{}') })));
    for (let left = 9; left > 0; left--) {
      // As many as the connections allow are held before one is answered.
      await waitFor(() => held.length === Math.min(3, left), { timeoutMs: 10_000, what: `${Math.min(3, left)} requests on the wire` });
      held.shift()!();
    }
    expect((await all).every((a) => a.kind === 'answer' && a.status === 200)).toBe(true);
    expect(most).toBe(3);
  });

  it('says refused, and that nothing was sent, when nothing listens', async () => {
    const ca = await createTestCa([gatewayHost]);
    cleanups.push(() => ca.remove());
    const dns = await startDnsServer({ [gatewayHost]: '127.0.0.1' });
    cleanups.push(() => dns.stop());
    const closed = await freePort();
    const result = await (await sender(ca.caPem, dns.address)).attempt({ host: gatewayHost, port: closed, path: '/dev/x', headers: {}, body: Buffer.from('{}') });
    expect(result).toEqual({ kind: 'failure', cause: 'connect-refused', sent: false });
  });
});
