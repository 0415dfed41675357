/**
 * The sandbox's consumer, through the real sandbox (nginx, the stand-in, fauxqs):
 * it receives and deletes what nginx mirrored, the config the sandbox writes says
 * the queue is live, and `mirror verify` on that config then judges from API
 * Gateway's answers by default, adding no receive to any message.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startFullSandbox, type FullSandbox } from '../../src/sandbox/fullSandbox.js';
import { sendCallbacks, trickyCallback } from '../../src/sandbox/callbacks.js';
import { bizppurio } from '../../src/vendors/bizppurio.js';
import { runVerify } from '../../src/commands/verify.js';
import { waitFor } from '../../src/os/childProcess.js';
import { readQueueAttributes } from '../../src/verify/sources/queueAttributes.js';
import { writeConfigFile } from '../support/config.js';

let sandbox: FullSandbox | undefined;
let dir: string | undefined;
beforeEach(() => {
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'sandbox');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'sandbox');
});
afterEach(async () => {
  vi.unstubAllEnvs();
  await sandbox?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
  sandbox = undefined;
  dir = undefined;
});

describe('the sandbox consumer', () => {
  it('receives and deletes every mirrored callback; the written config is live and verify judges it in ack mode', async () => {
    sandbox = await startFullSandbox({ consumer: true });
    const tree = sandbox.configTree();
    expect(tree.verify.liveConsumer).toBe(true);
    dir = await mkdtemp(join(tmpdir(), 'mirror-consumer-'));
    tree.verify = { ...tree.verify, grace: '1s', gate: 0.999, minSample: 20 };
    const config = await writeConfigFile(tree, dir);

    const bodies = Array.from({ length: 30 }, (_, i) => trickyCallback(bizppurio, i));
    expect((await sendCallbacks(sandbox.stack.callbackUrl, bodies, { connections: 4 })).every((r) => r.status === 200)).toBe(true);
    await waitFor(() => sandbox!.consumer!.consumed.length >= 30, { timeoutMs: 30_000, what: 'the consumer to take 30 messages' });
    expect(new Set(sandbox.consumer!.consumed.map((m) => m.body))).toEqual(new Set(bodies));
    const sqs = sandbox.fauxqs.client();
    try {
      await waitFor(async () => {
        const a = await readQueueAttributes(sqs, sandbox!.queueUrl);
        return a.visible === 0 && a.notVisible === 0;
      }, { timeoutMs: 10_000, what: 'an empty queue: every message deleted' });
    } finally {
      sqs.destroy();
    }

    // Nothing left in the queue to peek at: only the answers can prove these callbacks.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const r = await runVerify({ config });
    expect(r.verdict).toBe('pass');
    expect(r.counts).toMatchObject({ callbacks: 30, matched: 30, missing: 0 });
    expect(r.receivesAdded).toBe(0);
    expect('note' in r.sqs && r.sqs.note).toMatch(/^ack: /);
  }, 90_000);
});
