/**
 * Issue 10's end-to-end proofs: `mirror verify` stays true on a live system. Each
 * case runs through the real sandbox parts (nginx, the gateway stand-in, fauxqs).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { Pool } from 'undici';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { startFullSandbox, type FullSandbox, type FullSandboxOptions } from '../../src/sandbox/fullSandbox.js';
import { sendCallbacks, trickyCallback } from '../../src/sandbox/callbacks.js';
import { bizppurio } from '../../src/vendors/bizppurio.js';
import { runVerify } from '../../src/commands/verify.js';
import { waitFor } from '../../src/sandbox/childProcess.js';
import { writeConfigFile } from '../support/config.js';

let sandboxes: FullSandbox[] = [];
let dirs: string[] = [];
beforeEach(() => {
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

async function sandboxWithConfig(options: FullSandboxOptions = {}, verify: Record<string, unknown> = {}) {
  const s = await startFullSandbox(options);
  sandboxes.push(s);
  const dir = await mkdtemp(join(tmpdir(), 'mirror-verify-live-'));
  dirs.push(dir);
  const tree = s.configTree();
  tree.verify = { grace: '1s', gate: 0.999, minSample: 50, ...verify };
  return { s, dir, config: await writeConfigFile(tree, dir) };
}

async function waitForVisible(s: FullSandbox, n: number): Promise<void> {
  const sqs = s.fauxqs.client();
  try {
    await waitFor(
      async () => {
        const out = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: s.queueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }));
        return Number(out.Attributes?.ApproximateNumberOfMessages) >= n;
      },
      { timeoutMs: 30_000, what: `${n} messages in the queue` },
    );
  } finally {
    sqs.destroy();
  }
}

/** POSTs bodies with Transfer-Encoding: chunked (a streamed body has no Content-Length). */
async function sendChunked(url: string, bodies: readonly string[]): Promise<number[]> {
  const target = new URL(url);
  const pool = new Pool(target.origin, { connections: 1 });
  try {
    const statuses: number[] = [];
    for (const body of bodies) {
      const res = await pool.request({
        method: 'POST',
        path: target.pathname,
        headers: { 'content-type': 'application/json' },
        body: Readable.from(
          (function* () {
            for (let i = 0; i < body.length; i += 8192) yield Buffer.from(body.slice(i, i + 8192), 'utf8');
          })(),
        ),
      });
      await res.body.text();
      statuses.push(res.statusCode);
    }
    return statuses;
  } finally {
    await pool.close();
  }
}

/** A real callback shape with a USERDATA long enough to pass `bytes` (ASCII). */
function largeCallback(seq: number, bytes: number): string {
  const body = JSON.parse(trickyCallback(bizppurio, seq)) as Record<string, string>;
  body.USERDATA = 'u'.repeat(bytes);
  return JSON.stringify(body);
}

describe('1. a body nginx did not capture is not a mismatch', () => {
  it('100 KB callbacks past a 16k buffer are matched on the key and counted "body not checked"', async () => {
    const { s, config } = await sandboxWithConfig({ editConfig: (raw) => { raw.callback.bodyBufferSize = '16k'; } });
    const small = Array.from({ length: 60 }, (_, i) => trickyCallback(bizppurio, i));
    const large = Array.from({ length: 4 }, (_, i) => largeCallback(1000 + i, 100_000));
    const sent = await sendCallbacks(s.stack.callbackUrl, [...small, ...large], { connections: 2 });
    expect(sent.every((r) => r.status === 200)).toBe(true);
    // Chunked: one small (captured), two large (spilled to a temp file).
    const chunked = await sendChunked(s.stack.callbackUrl, [trickyCallback(bizppurio, 2000), largeCallback(2001, 100_000), largeCallback(2002, 50_000)]);
    expect(chunked).toEqual([200, 200, 200]);
    const total = small.length + large.length + chunked.length;
    await s.stack.waitForParityLines(total);
    await waitForVisible(s, total);

    const lines = (await s.stack.readParityLog()).flatMap((l) => (l.ok ? [l.record] : []));
    expect(lines.filter((r) => r.bodyCaptured === false)).toHaveLength(6);

    const report = await runVerify({ config, parityLog: [s.stack.parityLogPath], now: Date.now() + 5_000, receivers: 2 });
    expect(report.counts).toMatchObject({ callbacks: total, matched: total, missing: 0, bodyMismatches: 0, bodyNotChecked: 6 });
    expect(report.verdict).toBe('pass');
    expect(report.exitCode).toBe(0);
  }, 120_000);
});
