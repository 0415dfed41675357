/**
 * Issue 10's end-to-end proofs: `mirror verify` stays true on a live system. Each
 * case runs through the real sandbox parts (nginx, the gateway stand-in, fauxqs).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { Pool } from 'undici';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { GetQueueAttributesCommand, ReceiveMessageCommand, SetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { startFullSandbox, type FullSandbox, type FullSandboxOptions } from '../../src/sandbox/fullSandbox.js';
import { sendCallbacks, trickyCallback } from '../../src/sandbox/callbacks.js';
import { bizppurio } from '../../src/vendors/bizppurio.js';
import { formatVerifyText, runVerify } from '../../src/commands/verify.js';
import { answersLogPath } from '../../src/config/answersLogPath.js';
import { diagnose } from '../../src/doctor/diagnose.js';
import { waitFor } from '../../src/os/childProcess.js';
import { writeConfigFile } from '../support/config.js';
import { readQueueAttributes } from '../../src/verify/sources/queueAttributes.js';

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

/** A consumer mid-processing: receives with a long visibility and holds the messages, deleting nothing yet. */
async function holdMessages(s: FullSandbox, n: number): Promise<number> {
  const sqs = s.fauxqs.client();
  let held = 0;
  try {
    while (held < n) {
      const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl: s.queueUrl, MaxNumberOfMessages: Math.min(10, n - held), VisibilityTimeout: 600, WaitTimeSeconds: 1 }));
      held += out.Messages?.length ?? 0;
    }
  } finally {
    sqs.destroy();
  }
  return held;
}

describe('2. a message in flight is not missing', () => {
  it('two verifies back to back: the second sees the first one\'s peeked messages in flight and is inconclusive (exit 4), not a failure', async () => {
    const { s, config } = await sandboxWithConfig();
    const bodies = Array.from({ length: 120 }, (_, i) => trickyCallback(bizppurio, i));
    expect((await sendCallbacks(s.stack.callbackUrl, bodies, { connections: 4 })).every((r) => r.status === 200)).toBe(true);
    await s.stack.waitForParityLines(bodies.length);
    await waitForVisible(s, bodies.length);

    const first = await runVerify({ config, parityLog: [s.stack.parityLogPath], now: Date.now() + 5_000, receivers: 2 });
    expect(first.verdict).toBe('pass');
    expect(first.receivesAdded).toBe(bodies.length);
    const second = await runVerify({ config, parityLog: [s.stack.parityLogPath], now: Date.now() + 5_000, receivers: 2 });
    expect(second.counts).toMatchObject({ matched: 0, missing: bodies.length });
    expect(second.inFlight!.othersInFlight).toBe(bodies.length);
    expect(second.verdict).toBe('inconclusive');
    expect(second.exitCode).toBe(4);
    expect(second.gate.reasons.join(' ')).toMatch(/120 callback\(s\) missing while 120 message\(s\) were in flight/);
  }, 120_000);

  it('beside a slow consumer holding some messages: inconclusive; with more missing than can be in flight: a failure', async () => {
    const lostSet = new Set(Array.from({ length: 20 }, (_, i) => i * 5));
    const bodies = Array.from({ length: 200 }, (_, i) => trickyCallback(bizppurio, i));
    const lostBodies = new Set(bodies.filter((_, i) => lostSet.has(i)));
    const { s, config } = await sandboxWithConfig({ failSend: ({ body }) => lostBodies.has(body) });
    expect((await sendCallbacks(s.stack.callbackUrl, bodies, { connections: 4 })).every((r) => r.status === 200)).toBe(true);
    await s.stack.waitForParityLines(bodies.length);
    await waitForVisible(s, bodies.length - lostBodies.size);
    expect(await holdMessages(s, 5)).toBe(5);

    // 20 lost + 5 held = 25 missing; at most 5 in flight: parity could be at best 180/200, under the gate.
    const lost = await runVerify({ config, parityLog: [s.stack.parityLogPath], now: Date.now() + 5_000, receivers: 2 });
    expect(lost.counts).toMatchObject({ matched: 175, missing: 25 });
    expect(lost.inFlight!.othersInFlight).toBe(5);
    expect(lost.verdict).toBe('fail');
    expect(lost.exitCode).toBe(1);
    expect(lost.gate.reasons.join(' ')).toMatch(/exceeds what 5 in-flight message\(s\) can explain/);
  }, 120_000);

  it('beside a slow consumer with nothing lost: the held messages make it inconclusive', async () => {
    const { s, config } = await sandboxWithConfig();
    const bodies = Array.from({ length: 120 }, (_, i) => trickyCallback(bizppurio, i));
    expect((await sendCallbacks(s.stack.callbackUrl, bodies, { connections: 4 })).every((r) => r.status === 200)).toBe(true);
    await s.stack.waitForParityLines(bodies.length);
    await waitForVisible(s, bodies.length);
    expect(await holdMessages(s, 7)).toBe(7);
    const report = await runVerify({ config, parityLog: [s.stack.parityLogPath], now: Date.now() + 5_000, receivers: 2 });
    expect(report.counts).toMatchObject({ matched: 113, missing: 7 });
    expect(report.inFlight!.before.notVisible).toBe(7);
    expect(report.verdict).toBe('inconclusive');
    expect(report.exitCode).toBe(4);
  }, 120_000);
});

describe('3. a live consumer is never disturbed', () => {
  it('refuses to peek a queue with a redrive policy (exit 2, naming the policy and the override), and says the receives it added when allowed', async () => {
    const { s, config } = await sandboxWithConfig();
    const sqs = s.fauxqs.client();
    try {
      const dlqUrl = await s.fauxqs.createQueue('kakao-at-result-dlq');
      const dlq = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['QueueArn'] }));
      await sqs.send(new SetQueueAttributesCommand({
        QueueUrl: s.queueUrl,
        Attributes: { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.Attributes!.QueueArn, maxReceiveCount: 5 }) },
      }));
    } finally {
      sqs.destroy();
    }
    const bodies = Array.from({ length: 60 }, (_, i) => trickyCallback(bizppurio, i));
    expect((await sendCallbacks(s.stack.callbackUrl, bodies, { connections: 4 })).every((r) => r.status === 200)).toBe(true);
    await s.stack.waitForParityLines(bodies.length);
    await waitForVisible(s, bodies.length);

    const refused = runVerify({ config, parityLog: [s.stack.parityLogPath], now: Date.now() + 5_000 });
    await expect(refused).rejects.toMatchObject({ exitCode: 2 });
    await expect(refused).rejects.toThrow(/maxReceiveCount 5.*--allow-redrive-receives/s);
    // Nothing was received: every message is still visible to its consumer.
    const attrs = await readAttributes(s);
    expect(attrs).toMatchObject({ visible: 60, notVisible: 0 });

    const allowed = await runVerify({ config, parityLog: [s.stack.parityLogPath], now: Date.now() + 5_000, allowRedriveReceives: true });
    expect(allowed.receivesAdded).toBe(60);
    expect(allowed.verdict).toBe('pass');
  }, 120_000);
});

async function readAttributes(s: FullSandbox) {
  const sqs = s.fauxqs.client();
  try {
    return await readQueueAttributes(sqs, s.queueUrl);
  } finally {
    sqs.destroy();
  }
}

/** Lines in a file, 0 when it does not exist yet. */
async function lineCount(path: string): Promise<number> {
  const text = await readFile(path, 'utf8').catch(() => '');
  return text.split('\n').filter((l) => l.length > 0).length;
}

describe('3 and 4. verify --mode ack: parity from API Gateway\'s answers, every missing callback with its cause', () => {
  it('judges from the mirror answers log without touching the queue, and groups the missing by cause', async () => {
    const lostBodies = new Set(Array.from({ length: 4 }, (_, i) => trickyCallback(bizppurio, 500 + i)));
    const { s, config } = await sandboxWithConfig({ failSend: ({ body }) => lostBodies.has(body) }, { liveConsumer: true });
    const good = Array.from({ length: 80 }, (_, i) => trickyCallback(bizppurio, i));
    expect((await sendCallbacks(s.stack.callbackUrl, [...good, ...lostBodies], { connections: 4 })).every((r) => r.status === 200)).toBe(true);
    // No mapping template for a form-encoded body: API Gateway answers 415. An empty body: the validator's 400.
    expect((await sendCallbacks(s.stack.callbackUrl, ['a=1&b=2', 'c=3', 'd=4'], { contentType: 'application/x-www-form-urlencoded' })).every((r) => r.status === 200)).toBe(true);
    expect((await sendCallbacks(s.stack.callbackUrl, ['', ''])).every((r) => r.status === 200)).toBe(true);
    let total = good.length + lostBodies.size + 5;
    await s.stack.waitForParityLines(total);
    // API Gateway unreachable: the mirror's connection is refused.
    await s.stopGateway();
    expect((await sendCallbacks(s.stack.callbackUrl, [trickyCallback(bizppurio, 900), trickyCallback(bizppurio, 901)])).every((r) => r.status === 200)).toBe(true);
    total += 2;
    await s.stack.waitForParityLines(total);
    const answersLog = answersLogPath(s.stack.config);
    await waitFor(async () => (await lineCount(answersLog)) >= total, { timeoutMs: 30_000, what: `${total} lines in ${answersLog}` });
    await waitForVisible(s, good.length);
    const before = await readAttributes(s);

    // verify.liveConsumer: true makes ack the default mode.
    const report = await runVerify({ config, parityLog: [s.stack.parityLogPath], now: Date.now() + 5_000 });
    expect(report.receivesAdded).toBe(0);
    expect(await readAttributes(s)).toEqual(before);
    expect(report.counts).toMatchObject({ callbacks: total, matched: 80, missing: 11, pending: 0 });
    expect(report.ack!.byCauseLabel).toEqual({ 'http-5xx': 4, 'http-415': 3, 'http-400': 2, 'connect-refused': 2 });
    expect(Object.keys(report.ack!.byCause)).toEqual(
      expect.arrayContaining(['http-415 (415 UnsupportedMediaTypeException)', 'http-400 (400 BadRequestException)', 'connect-refused']),
    );
    expect(report.verdict).toBe('fail');
    expect(report.exitCode).toBe(1);
    expect(formatVerifyText(report)).toMatch(/missing or unknown by cause: http-5xx \(5\d\d[^)]*\) 4/);

    // doctor names the fix for each cause, from the same answers log.
    const doctor = diagnose([{ name: answersLog, text: await readFile(answersLog, 'utf8') }]);
    expect(Object.fromEntries(doctor.diagnoses.map((d) => [d.id, d.count]))).toEqual({ 'answer-5xx': 4, 'answer-415': 3, 'answer-400': 2, 'answer-connect-refused': 2 });
  }, 120_000);

  it('with every callback answered 2xx: a pass, exit 0, and the queue untouched', async () => {
    const { s, config } = await sandboxWithConfig({}, { liveConsumer: true });
    const good = Array.from({ length: 60 }, (_, i) => trickyCallback(bizppurio, i));
    expect((await sendCallbacks(s.stack.callbackUrl, good, { connections: 4 })).every((r) => r.status === 200)).toBe(true);
    await s.stack.waitForParityLines(good.length);
    await waitFor(async () => (await lineCount(answersLogPath(s.stack.config))) >= good.length, { timeoutMs: 30_000, what: 'the mirror answers' });
    const report = await runVerify({ config, parityLog: [s.stack.parityLogPath], now: Date.now() + 5_000 });
    expect(report.counts).toMatchObject({ callbacks: 60, matched: 60, missing: 0 });
    expect(report.verdict).toBe('pass');
    expect(report.exitCode).toBe(0);
    expect((await readAttributes(s)).notVisible).toBe(0);
  }, 120_000);
});
