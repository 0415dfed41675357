/** `mirror verify` against a real SQS emulator and real files: peek, consume, archives, logs. */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { GetQueueAttributesCommand, SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { startFauxqs, type Fauxqs } from '../../src/sqs/fauxqs.js';
import { runVerify, mask } from '../../src/commands/verify.js';
import { trickyCallback } from '../../src/sandbox/callbacks.js';
import { bizppurio } from '../../src/vendors/bizppurio.js';
import { exampleConfig, withValue, writeConfigFile } from '../support/config.js';
import { numberedRequestId, parityLine } from '../support/parityLog.js';

let fauxqs: Fauxqs;
let sqs: SQSClient;
beforeAll(async () => {
  // The default credential chain, fed from the environment as a user's shell would.
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'fauxqs');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'fauxqs');
  fauxqs = await startFauxqs();
  sqs = fauxqs.client();
});
afterAll(async () => {
  vi.unstubAllEnvs();
  sqs.destroy();
  await fauxqs.stop();
});

const id = numberedRequestId;

/** A queue with `messages`, and a config whose sqs section points at it. */
async function scenario(name: string, messages: { i: number; body: string }[]) {
  const queueUrl = await fauxqs.createQueue(name);
  for (let start = 0; start < messages.length; start += 10) {
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: messages.slice(start, start + 10).map((m) => ({ Id: String(m.i), MessageBody: m.body, MessageAttributes: { 'mirror-request-id': { DataType: 'String', StringValue: id(m.i) } } })),
      }),
    );
  }
  const dir = await mkdtemp(join(tmpdir(), 'mirror-verify-'));
  const raw = withValue(withValue(exampleConfig(), 'sqs', { queueUrl: `https://sqs.ap-northeast-2.amazonaws.com/000000000000/${name}`, endpoint: fauxqs.endpoint }), 'verify', { grace: '1m', gate: 0.999, minSample: 10 });
  return { queueUrl, dir, config: await writeConfigFile(raw, dir) };
}

async function visibleAndHidden(queueUrl: string): Promise<[number, number]> {
  const out = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }));
  return [Number(out.Attributes?.ApproximateNumberOfMessages), Number(out.Attributes?.ApproximateNumberOfMessagesNotVisible)];
}

describe('mirror verify', () => {
  const now = Date.now();
  const old = now - 10 * 60_000;
  const bodies = Array.from({ length: 40 }, (_, i) => trickyCallback(bizppurio, i));

  it('peek: reports missing, mismatched, unexpected and pending, and deletes nothing', async () => {
    // 0..37 delivered, 37 corrupted, 38 missing, 39 too young to judge; 100 is unexpected.
    const delivered = bodies.slice(0, 38).map((body, i) => ({ i, body: i === 37 ? body.replace('KAT', 'SMS') : body }));
    const { queueUrl, dir, config } = await scenario('peek-q', [...delivered, { i: 100, body: '{"stray":true}' }]);
    const log = join(dir, 'parity.log');
    await writeFile(log, `${bodies.map((b, i) => parityLine(id(i), b, { msec: i === 39 ? now + 60_000 : old })).join('\n')}\nnot json at all\n{"v":1,"request_id":"half`);
    // Judged 90 s from now: the stray message is past the 1 m grace, callback 39 is not.
    const r = await runVerify({ config, parityLog: [log], now: now + 90_000, receivers: 2 });
    // A body mismatch is a match (the ids joined) whose body differs: counted in both.
    expect(r.counts).toMatchObject({ callbacks: 40, matched: 38, missing: 1, pending: 1, unexpected: 1, bodyMismatches: 1, unparseable: 1 });
    expect(r.missing.map((m) => m.requestId)).toEqual([id(38)]);
    expect(r.missing[0]!.source).toEqual({ file: log, line: 39 });
    expect(r.mismatches[0]).toMatchObject({ requestId: id(37), offset: expect.any(Number) });
    expect(r.parityLogs.incompleteTail).toEqual([log]);
    expect(r.verdict).toBe('fail');
    expect(r.exitCode).toBe(1);
    expect('note' in r.sqs && r.sqs.note).toMatch(/not deleted/);
    // Peeked, never deleted: all 39 are still in the queue, just invisible for now.
    const [visible, hidden] = await visibleAndHidden(queueUrl);
    expect(visible + hidden).toBe(39);
    expect(JSON.stringify(r)).not.toMatch(/0101234/);
  });

  it('consume archives each message owner-only before deleting it; the archive replays offline to the same verdict', async () => {
    const { queueUrl, dir, config } = await scenario('consume-q', bodies.map((body, i) => ({ i, body })));
    const log = join(dir, 'parity.log.1.gz');
    await writeFile(log, gzipSync(`${bodies.map((b, i) => parityLine(id(i), b, { msec: old })).join('\n')}\n`));
    const archive = join(dir, 'archive.jsonl');
    const live = await runVerify({ config, parityLog: [join(dir, 'parity.log*')], mode: 'consume', archive, now });
    expect(live.counts).toMatchObject({ callbacks: 40, matched: 40, missing: 0, bodyMismatches: 0 });
    expect(live.verdict).toBe('pass');
    expect(await visibleAndHidden(queueUrl)).toEqual([0, 0]);
    expect((await stat(archive)).mode & 0o777).toBe(0o600);
    expect((await readFile(archive, 'utf8')).trim().split('\n')).toHaveLength(40);
    const offline = await runVerify({ config, parityLog: [log], sqsArchive: [archive], now });
    expect(offline.counts).toEqual(live.counts);
    expect(offline.exitCode).toBe(0);
  });

  it('too few callbacks judged is inconclusive (exit 4), never a pass', async () => {
    const { dir, config } = await scenario('small-q', bodies.slice(0, 3).map((body, i) => ({ i, body })));
    const log = join(dir, 'parity.log');
    await writeFile(log, `${bodies.slice(0, 3).map((b, i) => parityLine(id(i), b, { msec: old })).join('\n')}\n`);
    const r = await runVerify({ config, parityLog: [log], now, sqsArchive: [] });
    expect(r.verdict).toBe('inconclusive');
    expect(r.exitCode).toBe(4);
  });

  it('refuses bad flags with exit 2, naming them', async () => {
    const { config } = await scenario('flags-q', []);
    await expect(runVerify({ config, parityLog: ['/nonexistent/*.log'] })).rejects.toThrow(/matches no file/);
    await expect(runVerify({ config, parityLog: ['-'], match: 'phone' })).rejects.toThrow(/--match phone/);
    await expect(runVerify({ config, parityLog: ['-'], mode: 'consume' })).rejects.toThrow(/--archive/);
    await expect(runVerify({ config, parityLog: ['-'], since: 'yesterday' })).rejects.toThrow(/--since yesterday/);
  });

  it('masks personal fields unless told not to', () => {
    const body = JSON.stringify({ PHONE: '01012345678', TO_NAME: '홍길동 님', MSGID: 'm1' });
    expect(mask(body, bizppurio.personalFields, true)).toBe(JSON.stringify({ PHONE: '010*****678', TO_NAME: '홍길동 님'.slice(0, 3) + '*' + '동 님'.slice(-3), MSGID: 'm1' }));
    expect(mask(body, bizppurio.personalFields, false)).toBe(body);
  });
});
