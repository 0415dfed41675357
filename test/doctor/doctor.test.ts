/**
 * `mirror doctor` on logs the real nginx wrote while misconfigured in the sandbox,
 * plus API Gateway and SQS messages as the AWS documentation and the seed's notes
 * quote them (the gateway stand-in does not exist yet to provoke them).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { startShadowStack, type ShadowStack, type ShadowStackOptions } from '../../src/sandbox/shadowStack.js';
import { sendCallbacks, trickyCallback } from '../../src/sandbox/callbacks.js';
import { waitFor } from '../../src/os/childProcess.js';
import { freePort } from '../../src/os/freePort.js';
import { bizppurio } from '../../src/vendors/bizppurio.js';
import { runDoctor, formatDoctorText } from '../../src/commands/doctor.js';
import { diagnose, lineTime } from '../../src/doctor/diagnose.js';
import { fixtureCaPath } from '../support/config.js';

let stacks: ShadowStack[] = [];
afterEach(async () => {
  for (const s of stacks) await s.stop();
  stacks = [];
});

/** Runs the sandbox with a misconfiguration, sends callbacks, waits for `expected` in the error log. */
async function provoke(options: ShadowStackOptions, expected: string, send = 2): Promise<ShadowStack> {
  const s = await startShadowStack(options);
  stacks.push(s);
  const sent = await sendCallbacks(s.callbackUrl, Array.from({ length: send }, (_, i) => trickyCallback(bizppurio, i)), { connections: 2 });
  expect(sent.every((r) => r.status === 200), 'the origin keeps answering 200').toBe(true);
  await waitFor(async () => (await s.nginx.errorLog()).includes(expected), { timeoutMs: 20_000, what: `"${expected}" in the nginx error log` });
  return s;
}

describe('mirror doctor on real nginx error logs', () => {
  it.each<[string, ShadowStackOptions, string]>([
    ['no-resolver', { resolver: 'none' }, 'no resolver defined to resolve'],
    ['resolve-timeout', { resolver: 'silent', resolverTimeout: '1s' }, 'could not be resolved (110: Operation timed out)'],
    ['resolve-not-found', { editConfig: (raw) => void (raw.apiGateway.restApiId = 'zzzzzzzzzz') }, 'could not be resolved (3: Host not found)'],
    [
      'resolve-refused',
      { phase: 'shadow-domain', editConfig: (raw) => void (raw.apiGateway.customDomain = 'callbacks.example.net') },
      'could not be resolved (5: Operation refused)',
    ],
    ['tls-verify-failed', { editConfig: (raw) => void (raw.apiGateway.trustedCertificate = fixtureCaPath) }, 'upstream SSL certificate verify error'],
    ['read-timeout', { targetDelayMs: 3_000, editConfig: (raw) => void (raw.mirror.readTimeout = '1s') }, 'upstream timed out'],
  ])('%s', async (id, options, expected) => {
    const s = await provoke(options, expected);
    const { exitCode, report } = await runDoctor({ errorLog: [s.harness.errorLogPath] });
    expect(exitCode).toBe(1);
    expect(report.diagnoses.map((d) => d.id)).toContain(id);
    const diagnosis = report.diagnoses.find((d) => d.id === id)!;
    expect(diagnosis.count).toBeGreaterThanOrEqual(1);
    expect(diagnosis.first).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/);
    expect(diagnosis.change.length).toBeGreaterThan(0);
    // Nothing of a callback body reaches the report.
    expect(formatDoctorText(report)).not.toMatch(/0101234|홍길동/);
  });

  it('connection refused, and a 413 that never reached the mirror', async () => {
    const closedPort = await freePort();
    const s = await provoke({ editConfig: (raw) => void (raw.apiGateway.port = closedPort) }, 'Connection refused', 1);
    const res = await request(s.callbackUrl, { method: 'POST', body: Buffer.alloc(2 * 1024 * 1024, 0x61), headers: { 'content-type': 'application/json' } });
    await res.body.text();
    expect(res.statusCode).toBe(413);
    await waitFor(async () => (await s.nginx.errorLog()).includes('too large body'), { timeoutMs: 10_000, what: '413 in the error log' });
    const { report } = await runDoctor({ errorLog: [s.harness.errorLogPath] });
    expect(report.diagnoses.map((d) => d.id)).toEqual(expect.arrayContaining(['connection-refused', 'body-too-large']));
  });
});

describe('mirror doctor on API Gateway and SQS messages', () => {
  const invoke = [
    'Tue Nov 24 06:01:02 UTC 2026 : Starting execution for request: 8f3a',
    'Tue Nov 24 06:01:02 UTC 2026 : Method request body before transformations: {"PHONE":"01012345678"}',
    'Tue Nov 24 06:01:02 UTC 2026 : Endpoint response body before transformations: <?xml version="1.0"?><ErrorResponse><Error><Type>Sender</Type><Code>UnknownOperationException</Code></Error></ErrorResponse>',
    'Tue Nov 24 06:03:09 UTC 2026 : Endpoint response body before transformations: <ErrorResponse><Error><Code>AccessDenied</Code><Message>Access to the resource https://sqs.ap-northeast-2.amazonaws.com/ is denied.</Message></Error></ErrorResponse>',
    "Tue Nov 24 06:04:00 UTC 2026 : Endpoint response body before transformations: <Code>InvalidParameterValue</Code><Message>Message (user) attribute 'mirror-request-id' must contain a non-empty value of type 'String'.</Message>",
    '{"message":"Missing Authentication Token"}',
    '{"message":"Forbidden"}',
    '{"message": "Unsupported Media Type"}',
  ].join('\n');

  it('names each failure, counts and times it, and never repeats a line', () => {
    const report = diagnose([{ name: 'test-invoke.txt', text: invoke }]);
    expect(report.diagnoses.map((d) => d.id)).toEqual([
      'missing-authentication-token',
      'forbidden',
      'unsupported-media-type',
      'unknown-operation',
      'access-denied',
      'empty-attribute',
    ]);
    const unknown = report.diagnoses.find((d) => d.id === 'unknown-operation')!;
    expect(unknown).toMatchObject({ count: 1, first: '2026-11-24T06:01:02Z', firstAt: { input: 'test-invoke.txt', line: 3 } });
    expect(report.inputs[0]).toMatchObject({ lines: 8, recognised: 6, unrecognised: 2 });
    expect(JSON.stringify(report)).not.toMatch(/01012345678/);
  });

  it('one pasted message; nothing known gives exit 0; no input at all is a usage error', async () => {
    const one = await runDoctor({ text: '2026/11/24 06:00:00 [error] 7#7: *1 abc.execute-api.ap-northeast-2.amazonaws.com could not be resolved (110: Operation timed out), client: 10.0.0.1' });
    expect(one.exitCode).toBe(1);
    expect(one.report.diagnoses[0]).toMatchObject({ id: 'resolve-timeout', subjects: ['abc.execute-api.ap-northeast-2.amazonaws.com'] });
    const none = await runDoctor({ text: '2026/11/24 06:00:00 [notice] 7#7: signal process started' });
    expect(none.exitCode).toBe(0);
    expect(none.report.inputs[0]).toMatchObject({ unrecognised: 1, unrecognisedErrors: 0 });
    await expect(runDoctor({})).rejects.toThrow(/--error-log/);
    await expect(runDoctor({ errorLog: ['/nonexistent/error.log'] })).rejects.toThrow(/\/nonexistent\/error\.log/);
  });

  it('reads the times nginx, test-invoke and CloudWatch write', () => {
    expect(lineTime('2026/11/24 06:00:00 [error] x')).toBe('2026-11-24T06:00:00');
    expect(lineTime('Tue Nov 24 06:01:02 UTC 2026 : x')).toBe('2026-11-24T06:01:02Z');
    expect(lineTime('2026-11-24T06:01:02.123Z (8f3a) x')).toBe('2026-11-24T06:01:02Z');
    expect(lineTime('no time here')).toBeNull();
  });
});
