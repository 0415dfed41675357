/**
 * Consume mode loses nothing (issue 4, section 5): `mirror verify --mode consume`
 * runs as a real child process against fauxqs and is SIGKILLed at random points,
 * again and again. After every kill, each of the 2,000 messages must be either in
 * the archive (a whole line) or still in the queue; at the end a run that finishes
 * drains the rest, and the offline replay (`--sqs-archive`) matches every callback.
 * Duplicates are allowed (SQS is at-least-once) and are counted and printed.
 *
 * The kill schedule comes from a seeded PRNG; the seed is printed, and
 * MIRROR_KILL_SEED=<seed> replays the same schedule.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { appendFile, mkdtemp, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ResultPromise } from 'execa';
import { ChangeMessageVisibilityBatchCommand, SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { startFauxqs, type Fauxqs } from '../../src/sqs/fauxqs.js';
import { runVerify } from '../../src/commands/verify.js';
import { trickyCallback } from '../../src/sandbox/callbacks.js';
import { bizppurio } from '../../src/vendors/bizppurio.js';
import { requestIdAttribute } from '../../src/wire/contract.js';
import { exampleConfig, withValue, writeConfigFile } from '../support/config.js';
import { numberedRequestId, parityLine } from '../support/parityLog.js';
import { inspectQueue, readConsumeArchive } from '../support/consumeArchive.js';
import { seededRandom } from '../support/seededRandom.js';
import { runMirror } from '../support/cli.js';

const total = 2_000;
const rounds = 7;
const id = numberedRequestId;
const bodies = Array.from({ length: total }, (_, i) => trickyCallback(bizppurio, i));

let fauxqs: Fauxqs;
let sqs: SQSClient;
const running = new Set<ResultPromise>();

beforeAll(async () => {
  fauxqs = await startFauxqs();
  sqs = fauxqs.client();
});
afterEach(async () => {
  for (const child of running) {
    child.kill('SIGKILL');
    await child.catch(() => undefined);
  }
  running.clear();
});
afterAll(async () => {
  sqs?.destroy();
  await fauxqs?.stop();
});

/** A queue holding `count` callbacks, a parity log of the same callbacks, and a config pointing at fauxqs. */
async function scenario(name: string, count: number) {
  const queueUrl = await fauxqs.createQueue(name);
  const batches = Array.from({ length: Math.ceil(count / 10) }, (_, b) => b * 10);
  for (let start = 0; start < batches.length; start += 8) {
    await Promise.all(
      batches.slice(start, start + 8).map((first) =>
        sqs.send(
          new SendMessageBatchCommand({
            QueueUrl: queueUrl,
            Entries: Array.from({ length: Math.min(10, count - first) }, (_, k) => first + k).map((i) => ({
              Id: String(i),
              MessageBody: bodies[i]!,
              MessageAttributes: { [requestIdAttribute]: { DataType: 'String', StringValue: id(i) } },
            })),
          }),
        ),
      ),
    );
  }
  const dir = await mkdtemp(join(tmpdir(), 'mirror-consume-kill-'));
  const raw = withValue(
    withValue(exampleConfig(), 'sqs', { queueUrl: `https://sqs.ap-northeast-2.amazonaws.com/000000000000/${name}`, endpoint: fauxqs.endpoint }),
    'verify',
    { grace: '1m', gate: 0.999, minSample: 10 },
  );
  const old = Date.now() - 10 * 60_000;
  const parityLog = join(dir, 'parity.log');
  await writeFile(
    parityLog,
    bodies
      .slice(0, count)
      .map((body, i) =>
        `${parityLine(id(i), body, { msec: old })}\n`,
      )
      .join(''),
  );
  // The consume runs judge nothing (an empty parity log): they are here to move messages.
  const emptyLog = join(dir, 'empty.log');
  await writeFile(emptyLog, '');
  return { name, queueUrl, dir, parityLog, emptyLog, archive: join(dir, 'archive.jsonl'), config: await writeConfigFile(raw, dir) };
}

function startConsume(s: { config: string; emptyLog: string; archive: string }): ResultPromise {
  const child = runMirror(['verify', '--config', s.config, '--parity-log', s.emptyLog, '--mode', 'consume', '--archive', s.archive, '--json'], {
    stdin: 'ignore',
    // The default credential chain, fed from the environment as a user's shell would.
    env: { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' },
    timeout: 120_000,
  });
  running.add(child);
  void child.finally(() => running.delete(child));
  return child;
}

const archiveSize = (file: string) => stat(file).then((s) => s.size, () => 0);

/** Archive and queue against the 2,000 ids: what is lost, and what is held twice. */
async function account(s: { name: string; archive: string }) {
  const { messages, tornFragments } = await readConsumeArchive(s.archive);
  const queue = await inspectQueue(fauxqs.endpoint, s.name);
  const archived = new Map<string, number>();
  for (const m of messages) {
    const key = m.attributes[requestIdAttribute] ?? '';
    archived.set(key, (archived.get(key) ?? 0) + 1);
  }
  const queued = new Set(queue.messages.map((m) => m.messageAttributes[requestIdAttribute]?.StringValue ?? ''));
  const lost: string[] = [];
  for (let i = 0; i < total; i++) if (!archived.has(id(i)) && !queued.has(id(i))) lost.push(id(i));
  let archivedTwice = 0;
  for (const n of archived.values()) archivedTwice += n - 1;
  const inBoth = [...queued].filter((k) => archived.has(k)).length;
  return { lost, archivedLines: messages.length, archivedIds: archived.size, archivedTwice, queued: queued.size, inBoth, tornFragments, inflight: queue.inflight };
}

describe('consume mode loses nothing', () => {
  it(`SIGKILLed at random points over ${total} messages, every message is in the archive or still in the queue`, async () => {
    const seed = Number(process.env.MIRROR_KILL_SEED ?? Math.floor(Math.random() * 2 ** 32));
    console.log(`consume-kill seed ${seed} (MIRROR_KILL_SEED=${seed} replays this kill schedule)`);
    const random = seededRandom(seed);
    const s = await scenario('consume-kill', total);
    const lineBytes = bodies.reduce((n, body) => n + JSON.stringify({ messageId: 'x'.repeat(36), body, attributes: { [requestIdAttribute]: id(0) }, sentTimestampMs: Date.now() }).length + 1, 0) / total;
    let kills = 0;
    for (let round = 1; round <= rounds; round++) {
      const before = await account(s);
      const startSize = await archiveSize(s.archive);
      // Somewhere from the very first append (killed between fsync and delete) to a
      // good share of what is left: the rounds together leave plenty for the last run.
      const leftBytes = (total - before.archivedIds) * lineBytes;
      const target = startSize + 1 + Math.floor(random() * ((2 * leftBytes) / (rounds + 3)));
      const child = startConsume(s);
      let exited = false;
      void child.then(() => (exited = true));
      // A condition, polled: the archive has grown past the kill point, or the run ended.
      while (!exited && (await archiveSize(s.archive)) < target) await new Promise((resolve) => setTimeout(resolve, 2));
      if (!exited) {
        child.kill('SIGKILL');
        kills++;
      }
      const result = await child;
      if (result.signal !== 'SIGKILL') {
        // It drained the visible queue before the kill point: it must have ended cleanly.
        expect(result.exitCode, String(result.stderr).slice(-800)).toBe(4);
      }
      const after = await account(s);
      console.log(
        `round ${round}: ${result.signal === 'SIGKILL' ? `killed at ${await archiveSize(s.archive)} bytes (point ${target})` : `ended by itself (${result.exitCode})`}; ` +
          `archive ${after.archivedLines} lines / ${after.archivedIds} ids, ${after.archivedTwice} archived twice, ${after.tornFragments} torn; ` +
          `queue ${after.queued} (${after.inflight.length} in flight), ${after.inBoth} both archived and queued`,
      );
      expect(after.lost, `lost after round ${round} (seed ${seed})`).toEqual([]);
    }
    expect(kills).toBeGreaterThan(0);

    // Messages the killed runs received but never deleted are in flight for the
    // consume visibility timeout (60 s): make them visible now instead of waiting.
    const { inflight } = await inspectQueue(fauxqs.endpoint, s.name);
    for (let start = 0; start < inflight.length; start += 10) {
      const out = await sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: s.queueUrl,
          Entries: inflight.slice(start, start + 10).map((m, k) => ({ Id: String(k), ReceiptHandle: m.receiptHandle, VisibilityTimeout: 0 })),
        }),
      );
      expect(out.Failed ?? []).toEqual([]);
    }
    const last = await startConsume(s);
    expect(last.signal).toBeUndefined();
    expect(last.exitCode, String(last.stderr).slice(-800)).toBe(4);
    const lastReport = JSON.parse(String(last.stdout)) as { sqs: { received: number; deleted: number } };
    expect(lastReport.sqs.deleted).toBeGreaterThanOrEqual(inflight.length);

    const end = await account(s);
    expect(end.lost).toEqual([]);
    expect(end.queued).toBe(0);
    expect(end.archivedIds).toBe(total);
    // A kill leaves at most the append it interrupted torn.
    expect(end.tornFragments).toBeLessThanOrEqual(kills);
    console.log(`consume-kill seed ${seed}: ${kills} kills, 0 lost, ${end.archivedLines} archived lines for ${total} messages: ${end.archivedTwice} duplicates, ${end.tornFragments} torn fragments`);

    // The archive replays offline to the whole truth: every callback matched once,
    // every extra copy counted as a duplicate.
    const replay = await runVerify({ config: s.config, parityLog: [s.parityLog], sqsArchive: [s.archive] });
    expect(replay.counts).toMatchObject({ callbacks: total, matched: total, missing: 0, unexpected: 0, bodyMismatches: 0, duplicates: end.archivedTwice });
    expect(replay.exitCode).toBe(0);
  }, 240_000);

  it('a line torn by a kill mid-append does not swallow the next run\'s first message', async () => {
    const count = 30;
    const s = await scenario('consume-torn', count);
    // What a SIGKILL inside write(2) leaves: the first bytes of a record, no newline.
    const torn = JSON.stringify({ messageId: 'torn', body: bodies[0], attributes: { [requestIdAttribute]: id(0) }, sentTimestampMs: 1 }).slice(0, 57);
    await appendFile(s.archive, torn, { mode: 0o600 });
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'test');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'test');
    try {
      const r = await runVerify({ config: s.config, parityLog: [s.emptyLog], mode: 'consume', archive: s.archive });
      expect('deleted' in r.sqs && r.sqs.deleted).toBe(count);
    } finally {
      vi.unstubAllEnvs();
    }
    const { messages, tornFragments } = await readConsumeArchive(s.archive);
    // Every deleted message is a whole line of its own; only the torn bytes are not.
    expect(new Set(messages.map((m) => m.attributes[requestIdAttribute])).size).toBe(count);
    expect(messages).toHaveLength(count);
    expect(tornFragments).toBe(1);
    expect((await inspectQueue(fauxqs.endpoint, s.name)).messages).toEqual([]);
  });
});
