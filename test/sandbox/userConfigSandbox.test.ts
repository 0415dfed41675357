/**
 * The sandbox runs the user's own config: a mirror.yaml unlike the example in every
 * name (REST API id, region, stage, resource path, callback path, custom domain, a
 * two-level base path, request-id header, queue, validation) goes through every
 * phase, and the callbacks nginx took arrive in SQS byte for byte, joined by the
 * user's header. Only the local parts differ from what the user wrote.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { sandboxDown } from '../../src/commands/sandbox.js';
import type { Phase } from '../../src/config/phases.js';
import { sendCallbacks, trickyCallback } from '../../src/sandbox/callbacks.js';
import { waitFor } from '../../src/os/childProcess.js';
import { startFullSandbox, type FullSandbox } from '../../src/sandbox/fullSandbox.js';
import { readState } from '../../src/sandbox/sandboxState.js';
import { bizppurio } from '../../src/vendors/bizppurio.js';
import { runMirror } from '../support/cli.js';

/** Every name differs from the example's (a1b2c3d4e5, ap-northeast-2, dev, /kakao-at-result, callbacks.example.com, X-Mirror-Request-Id). */
const userConfig = {
  vendor: 'bizppurio',
  name: 'acme_dlr',
  callback: { path: '/hooks/delivery-report', upstream: 'https://origin.acme.internal:8443' },
  apiGateway: {
    restApiId: 'zz9yy8xx7w',
    region: 'eu-west-3',
    stage: 'prod_v2',
    resourcePath: '/dlr/in',
    customDomain: 'hooks.acme-notify.net',
    basePath: 'sms/v3',
    requestValidation: 'vendor-schema',
    sourceAddresses: ['198.51.100.0/24'],
  },
  resolver: { addresses: ['10.20.0.2'] },
  // Generous timeouts, as a user with a slow link might choose: on a loaded test machine
  // the first mirror (resolve, TLS handshake) must not time out and lose a callback.
  mirror: { requestIdHeader: 'X-Acme-Trace', sample: 100, connectTimeout: '5s', sendTimeout: '5s', readTimeout: '10s' },
  parityLog: { path: '/var/log/nginx/acme-parity.log' },
  sqs: { queueUrl: 'https://sqs.eu-west-3.amazonaws.com/210987654321/acme-dlr-intake' },
  phase: 'off',
};

const sandboxes: FullSandbox[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.allSettled(sandboxes.splice(0).map((s) => s.stop()));
  // Every sandbox down first: a state directory may sit inside another test directory.
  const all = dirs.splice(0);
  for (const dir of all) if (await readState(dir)) await sandboxDown({ dir });
  for (const dir of all) await rm(dir, { recursive: true, force: true });
});

const bodies = Array.from({ length: 12 }, (_, i) => trickyCallback(bizppurio, 500 + i));

describe("the sandbox on the user's config", () => {
  it.each(['shadow', 'shadow-domain', 'primary', 'direct'] as Phase[])('%s: every callback arrives in SQS byte for byte, joined by the user\'s header', async (phase) => {
    const s = await startFullSandbox({ phase, userConfig });
    sandboxes.push(s);
    // The user's names, not the example's.
    expect(s.stack.config.apiGateway).toMatchObject({ restApiId: 'zz9yy8xx7w', region: 'eu-west-3', stage: 'prod_v2', resourcePath: '/dlr/in', customDomain: 'hooks.acme-notify.net', basePath: 'sms/v3' });
    expect(s.queueUrl).toMatch(/acme-dlr-intake$/);
    expect(s.stack.callbackUrl).toMatch(/\/hooks\/delivery-report$/);
    expect(s.stack.gateway).toEqual(
      phase === 'shadow'
        ? { host: 'zz9yy8xx7w.execute-api.eu-west-3.amazonaws.com', path: expect.stringMatching(/^\/prod_v2\/dlr\/in/) }
        : { host: 'hooks.acme-notify.net', path: expect.stringMatching(/^\/sms\/v3\/dlr\/in/) },
    );

    const sent = await sendCallbacks(s.stack.callbackUrl, bodies);
    expect(sent.map((r) => r.status)).toEqual(bodies.map(() => 200));
    await s.stack.waitForParityLines(bodies.length);
    const records = await s.stack.readParityLog();
    const messages = await s.drain(bodies.length, 20_000);
    expect(messages.map((m) => m.body).sort()).toEqual([...bodies].sort());
    // nginx sent $request_id in X-Acme-Trace; the template copied it into the attribute.
    const requestIds = new Set(records.flatMap((r) => (r.ok ? [r.record.requestId] : [])));
    expect(requestIds.size).toBe(bodies.length);
    for (const m of messages) expect(requestIds.has(m.attributes['mirror-request-id']!), `message ${m.messageId} joins the parity log`).toBe(true);
  }, 90_000);

  it('off: the origin answers, nginx logs every callback, nothing goes to SQS', async () => {
    const s = await startFullSandbox({ phase: 'off', userConfig });
    sandboxes.push(s);
    await sendCallbacks(s.stack.callbackUrl, bodies);
    await s.stack.waitForParityLines(bodies.length);
    expect(s.stack.origin.requests).toHaveLength(bodies.length);
    expect(await s.drain(1, 3_000)).toEqual([]);
  }, 60_000);

  it('mirror sandbox up -c runs the user\'s file in any phase; a bad one is exit 2 naming the key', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mirror-user-sandbox-'));
    dirs.push(dir);
    const configPath = join(dir, 'mirror.yaml');
    await writeFile(configPath, stringify(userConfig));
    const up = await runMirror(['sandbox', 'up', '-c', configPath, '--phase', 'primary', '--dir', join(dir, 'state'), '--json'], { timeout: 120_000 });
    dirs.push(join(dir, 'state'));
    expect(up.exitCode, up.stderr).toBe(0);
    const { state } = JSON.parse(up.stdout) as { state: { phase: string; endpoints: Record<string, string> } };
    expect(state.phase).toBe('primary');
    expect(state.endpoints.gateway).toMatch(/^https:\/\/hooks\.acme-notify\.net:\d+\/sms\/v3\/dlr\/in/);
    const sent = await sendCallbacks(state.endpoints.callback!, bodies.slice(0, 4));
    expect(sent.every((r) => r.status === 200)).toBe(true);
    const sqs = new SQSClient({ endpoint: state.endpoints.sqsEndpoint!, region: 'eu-west-3', credentials: { accessKeyId: 'fauxqs', secretAccessKey: 'fauxqs' } });
    try {
      let got: string[] = [];
      await waitFor(async () => {
        const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl: state.endpoints.queueUrl!, WaitTimeSeconds: 1, MaxNumberOfMessages: 10 }));
        got = got.concat((out.Messages ?? []).map((m) => m.Body ?? ''));
        return got.length >= 4;
      }, { timeoutMs: 20_000, what: 'four callbacks in SQS' });
      expect(got.sort()).toEqual(bodies.slice(0, 4).sort());
    } finally {
      sqs.destroy();
    }

    const bad = join(dir, 'bad.yaml');
    await writeFile(bad, stringify({ ...userConfig, apiGateway: { ...userConfig.apiGateway, stage: 'no spaces allowed' } }));
    const refused = await runMirror(['sandbox', 'up', '-c', bad, '--dir', join(dir, 'other')], { timeout: 60_000 });
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toMatch(/apiGateway\.stage/);
  }, 150_000);
});
