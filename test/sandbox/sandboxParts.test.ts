import { afterEach, describe, expect, it } from 'vitest';
import { Resolver } from 'node:dns/promises';
import { request } from 'undici';
import { Agent } from 'undici';
import { createTestCa } from '../../src/sandbox/testCa.js';
import { startDnsServer } from '../../src/sandbox/dnsServer.js';
import { startRecordingServer } from '../../src/sandbox/recordingServer.js';
import { startTargetProcess } from '../support/targetProcess.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('sandbox parts', () => {
  it('dnsmasq answers A for its names, an empty NOERROR for AAAA, and nothing else', async () => {
    const dns = await startDnsServer({ 'abc.execute-api.ap-northeast-2.amazonaws.com': '127.0.0.1', 'callbacks.example.com': '127.0.0.1' });
    cleanups.push(dns.stop);
    const resolver = new Resolver({ timeout: 1000, tries: 1 });
    resolver.setServers([dns.address]);
    expect(await resolver.resolve4('abc.execute-api.ap-northeast-2.amazonaws.com')).toEqual(['127.0.0.1']);
    expect(await resolver.resolve4('callbacks.example.com')).toEqual(['127.0.0.1']);
    // NODATA (ENODATA), not REFUSED: nginx would fail the whole lookup on REFUSED.
    await expect(resolver.resolve6('callbacks.example.com')).rejects.toMatchObject({ code: 'ENODATA' });
    await expect(resolver.resolve4('example.org')).rejects.toMatchObject({ code: expect.stringMatching(/ENOTFOUND|EREFUSED|ESERVFAIL/) });
  });

  it('the test CA signs a certificate that TLS verifies for each name and SNI is recorded', async () => {
    const ca = await createTestCa(['abc.execute-api.ap-northeast-2.amazonaws.com', 'callbacks.example.com']);
    cleanups.push(ca.remove);
    const server = await startRecordingServer({ tls: { cert: ca.cert, key: ca.key } });
    cleanups.push(server.close);
    const dispatcher = new Agent({ connect: { ca: ca.caPem, servername: 'callbacks.example.com' } });
    cleanups.push(() => dispatcher.close());
    const res = await request(`https://127.0.0.1:${server.port}/x?y=1`, { method: 'POST', body: 'a+b&c', dispatcher });
    expect(res.statusCode).toBe(200);
    await res.body.text();
    expect(server.requests[0]).toMatchObject({ url: '/x?y=1', servername: 'callbacks.example.com' });
    expect(server.requests[0]!.body.toString()).toBe('a+b&c');
    // A name the certificate does not carry is refused by verification.
    const wrong = new Agent({ connect: { ca: ca.caPem, servername: 'other.example.com' } });
    cleanups.push(() => wrong.close());
    await expect(request(`https://127.0.0.1:${server.port}/`, { dispatcher: wrong })).rejects.toThrow(/altnames|Hostname/i);
  });

  it('a target in its own process counts requests and stops', async () => {
    const target = await startTargetProcess({});
    cleanups.push(target.stop);
    expect(target.pid).not.toBe(process.pid);
    for (let i = 0; i < 3; i++) (await request(`http://127.0.0.1:${target.port}/`, { method: 'POST', body: 'x' })).body.resume();
    await expect.poll(() => target.count()).toBe(3);
    await target.stop();
    expect(() => process.kill(target.pid, 0)).toThrow();
  });
});
