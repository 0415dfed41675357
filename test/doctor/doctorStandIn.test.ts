/**
 * `mirror doctor` on the gateway stand-in's own execution log, with each failure
 * provoked by the misconfiguration itself in the full sandbox: a wrong stage, a
 * wrong Host, a Content-Type with no template, the seed's wrong integration
 * Content-Type (UnknownOperationException), and a template that always sends the
 * request-id attribute (empty when the header is missing).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Agent, request } from 'undici';
import { startFullSandbox, type FullSandbox, type FullSandboxOptions } from '../../src/sandbox/fullSandbox.js';
import { sendCallbacks, trickyCallback } from '../../src/sandbox/callbacks.js';
import { bizppurio } from '../../src/vendors/bizppurio.js';
import { waitFor } from '../../src/os/childProcess.js';
import { runDoctor } from '../../src/commands/doctor.js';
import type { OpenApiDocument } from '../../src/gateway/openapiDocument.js';

let cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function sandbox(options: FullSandboxOptions = {}): Promise<{ s: FullSandbox; log: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'mirror-doctor-gw-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const log = join(dir, 'gateway.log');
  const s = await startFullSandbox({ ...options, gatewayLogPath: log });
  cleanups.push(() => s.stop());
  return { s, log };
}

async function post(s: FullSandbox, path: string, headers: Record<string, string>, body: string): Promise<number> {
  const host = headers.host ?? s.stack.gateway.host;
  // SNI stays the gateway's name while Host is whatever the caller set, as when nginx
  // passes the vendor's Host on: check the certificate against the SNI name.
  const dispatcher = new Agent({ connect: { ca: s.stack.ca.caPem, servername: s.stack.gateway.host, checkServerIdentity: () => undefined } });
  try {
    const res = await request(`https://127.0.0.1:${s.gatewayPort}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers, host }, body, dispatcher });
    await res.body.text();
    return res.statusCode;
  } finally {
    await dispatcher.close();
  }
}

const integration = (document: OpenApiDocument) => Object.values(document.paths)[0]!.post!['x-amazon-apigateway-integration']!;

async function diagnosed(log: string, ids: string[]) {
  await waitFor(async () => {
    const run = await runDoctor({ errorLog: [log] }).catch(() => undefined); // the log appears with its first line
    return run !== undefined && ids.every((id) => run.report.diagnoses.some((d) => d.id === id));
  }, { timeoutMs: 15_000, what: `doctor to find ${ids.join(', ')} in ${log}` });
  return runDoctor({ errorLog: [log] });
}

describe('mirror doctor on the stand-in execution log', () => {
  it('names a wrong stage, a wrong Host and a Content-Type with no template', async () => {
    const { s, log } = await sandbox();
    const body = trickyCallback(bizppurio, 1);
    expect(await post(s, '/prod/kakao-at-result', {}, body)).toBe(403);
    expect(await post(s, s.stack.gateway.path, { host: 'wrong.example.com' }, body)).toBe(403);
    expect(await post(s, s.stack.gateway.path, { 'content-type': 'text/plain' }, body)).toBe(415);
    const { exitCode, report } = await diagnosed(log, ['missing-authentication-token', 'forbidden', 'unsupported-media-type']);
    expect(exitCode).toBe(1);
    for (const id of ['missing-authentication-token', 'forbidden', 'unsupported-media-type']) expect(report.diagnoses.find((d) => d.id === id)!.count).toBe(1);
    // The log never carries a body: callbacks hold phone numbers.
    expect(await readFile(log, 'utf8')).not.toMatch(/0101234/);
  }, 60_000);

  it("names UnknownOperationException from the seed's integration Content-Type, provoked through nginx", async () => {
    const { s, log } = await sandbox({
      editDocument: (d) => {
        integration(d).requestParameters = { 'integration.request.header.Content-Type': "'application/json'" };
      },
    });
    await sendCallbacks(s.stack.callbackUrl, [trickyCallback(bizppurio, 2), trickyCallback(bizppurio, 3)]);
    const { report } = await diagnosed(log, ['unknown-operation']);
    expect(report.diagnoses.find((d) => d.id === 'unknown-operation')!.count).toBe(2);
  }, 60_000);

  it('names the empty message attribute of a template that always copies the header', async () => {
    const { s, log } = await sandbox({
      editDocument: (d) => {
        const i = integration(d);
        for (const type of Object.keys(i.requestTemplates!)) {
          i.requestTemplates![type] =
            "Action=SendMessage&MessageBody=$util.urlEncode($input.body)&MessageAttribute.1.Name=mirror-request-id&MessageAttribute.1.Value.DataType=String&MessageAttribute.1.Value.StringValue=$util.urlEncode($input.params('X-Mirror-Request-Id'))";
        }
      },
    });
    // The vendor calling API Gateway directly (the direct phase): no request-id header.
    expect(await post(s, s.stack.gateway.path, {}, trickyCallback(bizppurio, 4))).toBeGreaterThanOrEqual(500);
    const { report } = await diagnosed(log, ['empty-attribute']);
    expect(report.diagnoses.find((d) => d.id === 'empty-attribute')!.count).toBe(1);
  }, 60_000);
});
