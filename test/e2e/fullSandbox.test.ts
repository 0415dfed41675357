/**
 * Issue 3's end-to-end proof through the sandbox the CLI runs: real nginx (rendered
 * shadow or shadow-domain) -> dnsmasq -> the gateway stand-in (TLS, executing the
 * rendered OpenAPI document) -> fauxqs.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Agent, request } from 'undici';
import { startFullSandbox, type FullSandbox } from '../../src/sandbox/fullSandbox.js';
import { sendCallbacks, trickyCallback } from '../../src/sandbox/callbacks.js';
import { bizppurio } from '../../src/vendors/bizppurio.js';
import type { OpenApiDocument } from '../../src/gateway/openapiDocument.js';
import type { CallbackRecord } from '../../src/verify/engine/records.js';

let sandboxes: FullSandbox[] = [];
afterEach(async () => {
  for (const s of sandboxes) await s.stop();
  sandboxes = [];
});

async function sandbox(options: Parameters<typeof startFullSandbox>[0] = {}): Promise<FullSandbox> {
  const started = await startFullSandbox(options);
  sandboxes.push(started);
  return started;
}

async function parityRecords(s: FullSandbox): Promise<CallbackRecord[]> {
  return (await s.stack.readParityLog()).flatMap((l) => (l.ok ? [l.record] : []));
}

/** POST straight to the stand-in, as the vendor will in the direct phase. */
async function postToGateway(s: FullSandbox, body: string, headers: Record<string, string> = {}) {
  const dispatcher = new Agent({ connect: { ca: s.stack.ca.caPem, servername: s.stack.gateway.host } });
  try {
    const res = await request(`https://127.0.0.1:${s.gatewayPort}${s.stack.gateway.path}`, {
      method: 'POST',
      headers: { host: s.stack.gateway.host, 'content-type': 'application/json', ...headers },
      body,
      dispatcher,
    });
    return { status: res.statusCode, body: await res.body.text() };
  } finally {
    await dispatcher.close();
  }
}

function operation(document: OpenApiDocument) {
  const integration = Object.values(document.paths)[0]!.post!['x-amazon-apigateway-integration']!;
  return integration;
}

describe('the full sandbox: nginx -> DNS -> gateway stand-in -> SQS', () => {
  it('delivers 220 awkward callbacks to SQS byte for byte, each with the request id of its parity log line', async () => {
    const s = await sandbox();
    const bodies = Array.from({ length: 220 }, (_, i) => trickyCallback(bizppurio, i));
    const sent = await sendCallbacks(s.stack.callbackUrl, bodies, { connections: 4 });
    expect(sent.every((r) => r.status === 200)).toBe(true);
    await s.stack.waitForParityLines(bodies.length);
    const messages = await s.drain(bodies.length, 60_000);
    expect(messages).toHaveLength(bodies.length);

    const records = await parityRecords(s);
    expect(records).toHaveLength(bodies.length);
    const byRequestId = new Map(records.map((r) => [r.requestId, r]));
    for (const message of messages) {
      const requestId = message.attributes['mirror-request-id'];
      expect(requestId).toMatch(/^[0-9a-f]{32}$/);
      const record = byRequestId.get(requestId!);
      expect(record, `message ${message.messageId} joins a parity log line`).toBeDefined();
      expect(Buffer.from(message.body).equals(Buffer.from(record!.body!)), `body of ${requestId} is byte-exact`).toBe(true);
      byRequestId.delete(requestId!);
    }
    expect(byRequestId.size, 'every callback arrived exactly once').toBe(0);
  }, 120_000);

  it('a POST without the request-id header (or with an empty one) lands without the attribute, not a 400', async () => {
    const s = await sandbox();
    const body = trickyCallback(bizppurio, 3);
    expect(await postToGateway(s, body)).toEqual({ status: 200, body: '' });
    expect(await postToGateway(s, body, { 'x-mirror-request-id': '' })).toEqual({ status: 200, body: '' });
    const messages = await s.drain(2);
    expect(messages).toHaveLength(2);
    for (const m of messages) {
      expect(m.body).toBe(body);
      expect(m.attributes).toEqual({});
    }
  }, 60_000);

  it("the seed's template (no $util.urlEncode) lands bodies that differ from what was sent", async () => {
    const s = await sandbox({
      editDocument: (document) => {
        const integration = operation(document);
        for (const type of Object.keys(integration.requestTemplates!)) integration.requestTemplates![type] = 'Action=SendMessage&MessageBody=$input.body';
      },
    });
    const bodies = Array.from({ length: 12 }, (_, i) => trickyCallback(bizppurio, i));
    await sendCallbacks(s.stack.callbackUrl, bodies);
    await s.stack.waitForParityLines(bodies.length);
    const messages = await s.drain(bodies.length, 20_000);
    // Some are refused outright (a body split at & leaves a broken form); every one that landed differs.
    expect(messages.length).toBeGreaterThan(0);
    const sentSet = new Set(bodies);
    for (const m of messages) expect(sentSet.has(m.body), 'the landed body is not what was sent').toBe(false);
  }, 60_000);

  it('a wrong integration Content-Type gives the vendor a 5xx, never a 200, and nothing lands', async () => {
    const s = await sandbox({
      editDocument: (document) => {
        operation(document).requestParameters = { 'integration.request.header.Content-Type': "'application/json'" };
      },
    });
    const answer = await postToGateway(s, trickyCallback(bizppurio, 1), { 'x-mirror-request-id': 'abc' });
    expect(answer.status).toBeGreaterThanOrEqual(500);
    expect(answer.status).toBeLessThan(600);
    expect(await s.drain(1, 3_000)).toEqual([]);
  }, 60_000);

  it('in shadow-domain, delivers through the custom domain with a non-empty base path', async () => {
    const s = await sandbox({
      phase: 'shadow-domain',
      editConfig: (raw) => {
        raw.apiGateway.basePath = 'callbacks/v1';
      },
    });
    expect(s.stack.gateway).toEqual({ host: 'callbacks.example.com', path: '/callbacks/v1/kakao-at-result' });
    const bodies = Array.from({ length: 30 }, (_, i) => trickyCallback(bizppurio, i + 500));
    await sendCallbacks(s.stack.callbackUrl, bodies);
    await s.stack.waitForParityLines(bodies.length);
    const messages = await s.drain(bodies.length, 30_000);
    expect(new Set(messages.map((m) => m.body))).toEqual(new Set(bodies));
    const records = await parityRecords(s);
    expect(new Set(messages.map((m) => m.attributes['mirror-request-id']))).toEqual(new Set(records.map((r) => r.requestId)));
  }, 60_000);
});
