/**
 * The gate into primary with ship: a throwaway nginx with the primary render, and
 * probes through it, against the sandbox (real nginx, dnsmasq, the gateway
 * stand-in behind real TLS with the test CA, fauxqs). It passes with a good config
 * and refuses with a custom-domain certificate nginx cannot verify or a resolver
 * that does not answer.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { stringify } from 'yaml';
import { startFullSandbox, type FullSandbox } from '../../src/sandbox/fullSandbox.js';
import { parseConfigText } from '../../src/config/load.js';
import { findNginx } from '../../src/nginx/nginxBinary.js';
import { freePort } from '../../src/os/freePort.js';
import { nginxReachGate, reachVerdict } from '../../src/cutover/nginxReach.js';
import { fixtureCaPath } from '../support/config.js';

let sandbox: FullSandbox;
let nginxPath: string;
beforeAll(async () => {
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'sandbox');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'sandbox');
  nginxPath = await findNginx();
  sandbox = await startFullSandbox({ editConfig: (raw) => void (raw.mirror.transport = 'ship') });
}, 60_000);
afterAll(async () => {
  await sandbox?.stop();
  vi.unstubAllEnvs();
});

function configWith(edit: (tree: Record<string, any>) => void) {
  const tree = sandbox.configTree();
  edit(tree);
  return parseConfigText(stringify(tree), 'test').config;
}

describe('the gate into primary with ship: nginx itself reaches the custom domain', () => {
  it('passes with the sandbox config: the probes get API Gateway 2xx through the throwaway nginx and land in SQS', async () => {
    const gate = await nginxReachGate(configWith(() => undefined), { nginxPath, count: 2, timeout: '15s' });
    expect(gate.verdict, gate.summary).toBe('pass');
    expect(gate.figures).toEqual({ probesSent: 2, probesAnswered2xx: 2, probesInSqs: 2 });
  }, 60_000);

  it('refuses when the custom domain certificate does not verify against apiGateway.trustedCertificate', async () => {
    const gate = await nginxReachGate(configWith((t) => void (t.apiGateway.trustedCertificate = fixtureCaPath)), { nginxPath, count: 1, timeout: '2s' });
    expect(gate.verdict).toBe('fail');
    expect(gate.figures).toMatchObject({ probesAnswered2xx: 0 });
    expect(gate.summary).toMatch(/probes answered 502/);
    expect(gate.summary).toMatch(/nginx's error log: .*certificate verify error/);
  }, 60_000);

  it('refuses when the resolver does not answer', async () => {
    const silent = await freePort({ udp: true });
    const gate = await nginxReachGate(
      configWith((t) => void (t.resolver = { ...t.resolver, addresses: [`127.0.0.1:${silent}`], timeout: '1s' })),
      { nginxPath, count: 1, timeout: '2s' },
    );
    expect(gate.verdict).toBe('fail');
    expect(gate.figures).toMatchObject({ probesAnswered2xx: 0 });
    expect(gate.summary).toMatch(/nginx's error log: .*(could not be resolved|timed out)/);
  }, 60_000);

  it('judges by every probe answered 2xx', () => {
    const probe = (status: number | null) => ({ seq: 0, refKey: 'r', status, roundTripMs: null, sentTimestampLagMs: null });
    expect(reachVerdict({ sent: 2, arrived: 0, probes: [probe(200), probe(200)] }, 'h', []).verdict).toBe('pass');
    expect(reachVerdict({ sent: 2, arrived: 2, probes: [probe(200), probe(403)] }, 'h', []).verdict).toBe('fail');
    expect(reachVerdict({ sent: 0, arrived: 0, probes: [] }, 'h', []).verdict).toBe('fail');
  });
});
