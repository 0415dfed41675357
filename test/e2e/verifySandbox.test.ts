/**
 * Issue 4's end-to-end proof: callbacks through real nginx into the sandbox's SQS,
 * a known set lost on the way, and `mirror verify` naming exactly those.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startFullSandbox, type FullSandbox, type FullSandboxOptions } from '../../src/sandbox/fullSandbox.js';
import { sendCallbacks, trickyCallback } from '../../src/sandbox/callbacks.js';
import { bizppurio } from '../../src/vendors/bizppurio.js';
import { runVerify } from '../../src/commands/verify.js';
import { waitFor } from '../../src/os/childProcess.js';
import { writeConfigFile } from '../support/config.js';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';

let sandboxes: FullSandbox[] = [];
let dirs: string[] = [];
beforeEach(() => {
  // The default credential chain, fed from the environment as a user's shell would.
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'sandbox');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'sandbox');
});
afterEach(async () => {
  vi.unstubAllEnvs();
  for (const s of sandboxes) await s.stop();
  for (const d of dirs) await rm(d, { recursive: true, force: true });
  sandboxes = [];
  dirs = [];
});

async function sandboxWithConfig(options: FullSandboxOptions = {}) {
  const s = await startFullSandbox(options);
  sandboxes.push(s);
  const dir = await mkdtemp(join(tmpdir(), 'mirror-verify-e2e-'));
  dirs.push(dir);
  const tree = s.configTree();
  tree.verify = { grace: '1s', gate: 0.999, minSample: 100 };
  return { s, config: await writeConfigFile(tree, dir) };
}

const count = 500;
const bodies = Array.from({ length: count }, (_, i) => trickyCallback(bizppurio, i));
// The lost set: every callback whose REFKEY is order-N with N % 61 == 5 (9 of 500).
const lost = (body: string) => /"REFKEY":\s*"order-(\d+)&/.exec(body)?.[1] !== undefined && Number(/"REFKEY":\s*"order-(\d+)&/.exec(body)![1]) % 61 === 5;

async function sendAndSettle(s: FullSandbox, expectedInQueue: number): Promise<void> {
  const sent = await sendCallbacks(s.stack.callbackUrl, bodies, { connections: 4 });
  expect(sent.every((r) => r.status === 200), 'the origin answered every callback').toBe(true);
  await s.stack.waitForParityLines(count);
  // Wait on the queue itself, not a clock: every delivered message is visible.
  const sqs = s.fauxqs.client();
  try {
    await waitFor(
      async () => {
        const out = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: s.queueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }));
        return Number(out.Attributes?.ApproximateNumberOfMessages) >= expectedInQueue;
      },
      { timeoutMs: 30_000, what: `${expectedInQueue} messages in the queue` },
    );
  } finally {
    sqs.destroy();
  }
}

describe('mirror verify over the sandbox', () => {
  it('names exactly the lost request ids and fails the gate', async () => {
    const lostBodies = bodies.filter(lost);
    expect(lostBodies.length).toBe(9);
    const { s, config } = await sandboxWithConfig({ failSend: ({ body }) => lost(body) });
    await sendAndSettle(s, count - lostBodies.length);
    const records = (await s.stack.readParityLog()).flatMap((l) => (l.ok ? [l.record] : []));
    const expectedMissing = records.filter((r) => lost(r.body!)).map((r) => r.requestId).sort();
    expect(expectedMissing).toHaveLength(9);

    const report = await runVerify({ config, parityLog: [s.stack.parityLogPath], now: Date.now() + 5_000, receivers: 2 });
    expect(report.missing.map((m) => m.requestId).sort()).toEqual(expectedMissing);
    expect(report.counts).toMatchObject({ callbacks: count, matched: count - 9, missing: 9, unexpected: 0, bodyMismatches: 0 });
    expect(report.parity).toBeCloseTo((count - 9) / count, 6);
    expect(report.verdict).toBe('fail');
    expect(report.exitCode).toBe(1);
  }, 120_000);

  it('with nothing lost: parity 1.0, exit 0', async () => {
    const { s, config } = await sandboxWithConfig();
    await sendAndSettle(s, count);
    const report = await runVerify({ config, parityLog: [s.stack.parityLogPath], now: Date.now() + 5_000, receivers: 2 });
    expect(report.counts).toMatchObject({ callbacks: count, matched: count, missing: 0, unexpected: 0, bodyMismatches: 0 });
    expect(report.parity).toBe(1);
    expect(report.verdict).toBe('pass');
    expect(report.exitCode).toBe(0);
  }, 120_000);

  it("the seed's unencoded template: body mismatches fail the gate", async () => {
    const { s, config } = await sandboxWithConfig({
      editDocument: (document) => {
        const integration = Object.values(document.paths)[0]!.post!['x-amazon-apigateway-integration']!;
        for (const type of Object.keys(integration.requestTemplates!)) {
          integration.requestTemplates![type] = integration.requestTemplates![type]!.replace('$util.urlEncode($input.body)', '$input.body');
        }
      },
    });
    const sent = await sendCallbacks(s.stack.callbackUrl, bodies.slice(0, 150), { connections: 4 });
    expect(sent.every((r) => r.status === 200)).toBe(true);
    await s.stack.waitForParityLines(150);
    const report = await runVerify({ config, parityLog: [s.stack.parityLogPath], now: Date.now() + 5_000, receivers: 2 });
    expect(report.counts.bodyMismatches).toBeGreaterThan(0);
    expect(report.mismatches[0]).toMatchObject({ offset: expect.any(Number) });
    expect(report.verdict).toBe('fail');
    expect(report.exitCode).toBe(1);
  }, 120_000);
});
