/**
 * `verify --sqs-archive` reads parity logs and archives side by side in time
 * order: what it holds is bounded by the callbacks and messages still undecided,
 * not by the input, and its report is the one reading everything at once gives.
 * Input too far out of order makes it read again all at once, never misjudge.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatVerifyText, runVerify, type VerifyResult } from '../../src/commands/verify.js';
import { ArchiveBatches } from '../../src/verify/sources/archiveSource.js';
import { orderMarginMs } from '../../src/verify/sources/offlineRead.js';
import { ParityLedger } from '../../src/verify/engine/parityLedger.js';
import { readParityLogs } from '../../src/verify/sources/parityLogSource.js';
import type { QueueMessage } from '../../src/verify/engine/records.js';
import { requestIdAttribute } from '../../src/wire/contract.js';
import { exampleConfig, withValue, writeConfigFile } from '../support/config.js';
import { seededRandom } from '../support/seededRandom.js';

const id = (i: number) => i.toString(16).padStart(32, '0');
const base = Date.parse('2026-11-25T00:00:00Z');
const graceMs = 60_000;


interface Generated {
  dir: string;
  config: string;
  logs: string[];
  archives: string[];
  truth: { callbacks: number; missing: number; duplicates: number; mismatches: number; unexpected: number };
  now: number;
}

/**
 * Two nginx hosts' logs (alternate callbacks), and archives of the messages in
 * `archiveCount` consecutive files, shuffled within windows of `shuffle` messages;
 * some callbacks dropped, some messages doubled, one body changed, one stray.
 */
async function generate(records: number, spacingMs: number, shuffle: number, archiveCount: number): Promise<Generated> {
  const dir = await mkdtemp(join(tmpdir(), 'mirror-time-order-'));
  const random = seededRandom(0xc0ffee);
  const hostLines: string[][] = [[], []];
  const messages: string[] = [];
  const truth = { callbacks: records, missing: 0, duplicates: 0, mismatches: 0, unexpected: 1 };
  for (let i = 0; i < records; i++) {
    const timeMs = base + i * spacingMs;
    const body = JSON.stringify({ MSGID: `m${i}`, RESULT: '7000' });
    hostLines[i % 2]!.push(
      JSON.stringify({ v: 1, msec: timeMs / 1000, request_id: id(i), method: 'POST', uri: '/api/kakao/result', status: 200, phase: 'shadow', apigw: '1', upstream_status: '200', body }),
    );
    if (random() < 0.002) {
      truth.missing++;
      continue;
    }
    const corrupt = i === Math.floor(records / 2);
    if (corrupt) truth.mismatches++;
    const message: QueueMessage = { messageId: `q${i}`, body: corrupt ? body.replace('7000', '7001') : body, attributes: { [requestIdAttribute]: id(i) }, sentTimestampMs: timeMs + 20 + Math.floor(random() * 400) };
    messages.push(JSON.stringify(message));
    if (random() < 0.005) {
      truth.duplicates++;
      messages.push(JSON.stringify(message));
    }
  }
  messages.push(JSON.stringify({ messageId: 'stray', body: '{}', attributes: { [requestIdAttribute]: 'f'.repeat(32) }, sentTimestampMs: base + 1000 }));
  for (let start = 0; start < messages.length; start += shuffle) {
    for (let k = Math.min(messages.length, start + shuffle) - 1; k > start; k--) {
      const j = start + Math.floor(random() * (k - start + 1));
      [messages[k], messages[j]] = [messages[j]!, messages[k]!];
    }
  }
  const logs = [join(dir, 'parity-n1.log'), join(dir, 'parity-n2.log')];
  await Promise.all(logs.map((file, h) => writeFile(file, `${hostLines[h]!.join('\n')}\n`)));
  const archives: string[] = [];
  const per = Math.ceil(messages.length / archiveCount);
  for (let k = 0; k < archiveCount; k++) {
    archives.push(join(dir, `archive-${k}.jsonl`));
    await writeFile(archives[k]!, `${messages.slice(k * per, (k + 1) * per).join('\n')}\n`);
  }
  const config = await writeConfigFile(withValue(exampleConfig(), 'verify', { grace: '1m', gate: 0.999, minSample: 10 }), dir);
  return { dir, config, logs, archives, truth, now: base + records * spacingMs + 3_600_000 };
}

/** What the comparator reported before it read in time order: every log, then every archive, judged once. */
async function allAtOnce(g: Generated, archives = g.archives) {
  const ledger = new ParityLedger({ match: { kind: 'request-id' }, graceMs });
  await readParityLogs(g.logs, (r) => ledger.addCallback(r));
  const archive = new ArchiveBatches(archives);
  for (let batch = await archive.next(); batch; batch = await archive.next()) for (const m of batch) ledger.addMessage(m);
  ledger.advance(g.now);
  return ledger.judgement();
}

function reading(r: VerifyResult) {
  if (!('reading' in r.sqs)) throw new Error('expected an offline run');
  return r.sqs.reading;
}

describe('verify --sqs-archive in time order', () => {
  it('holds only undecided items while streaming 200,000 callbacks from two hosts against three archives, and reports what all-at-once reports', async () => {
    const records = 200_000;
    const spacingMs = 100;
    const shuffle = 2_000;
    const g = await generate(records, spacingMs, shuffle, 3);
    const r = await runVerify({ config: g.config, parityLog: g.logs, sqsArchive: g.archives, now: g.now });

    expect(r.counts).toMatchObject({ callbacks: g.truth.callbacks, missing: g.truth.missing, matched: records - g.truth.missing, duplicates: g.truth.duplicates, bodyMismatches: 1, unexpected: 1, pending: 0 });
    const before = await allAtOnce(g);
    expect(r.counts).toEqual({ ...before.counts, unparseable: 0 });
    // Same ids in the same order (log order: the first host's, then the second's).
    expect(r.missing).toEqual(before.missing);
    expect(r.mismatches).toEqual(before.mismatches);
    expect(r.unexpected).toEqual(before.unexpected);
    expect(r.lagMs).toMatchObject({ count: before.lagMs.count, max: before.lagMs.max });

    const held = reading(r);
    expect(held).toMatchObject({ order: 'time' });
    // Undecided at most: both sides over grace + margin (6 min) plus the shuffle
    // span, plus the items read between two judgings (4096, or a quarter of
    // what is held). All at once it would be every callback: 200,000.
    const perMs = 2 / spacingMs;
    const bound = Math.ceil((graceMs + orderMarginMs(graceMs) + shuffle * spacingMs) * perMs) + 4096 + Math.ceil(held.maxRecentKeys / 4);
    expect(held.maxUndecided).toBeLessThanOrEqual(bound);
    expect(held.maxUndecided).toBeLessThan(records / 20);
    // Matched keys are kept for the dedupe window (10 min by default) only.
    expect(held.maxRecentKeys).toBeLessThanOrEqual(Math.ceil((600_000 + graceMs + orderMarginMs(graceMs) + shuffle * spacingMs) * perMs) + 4096);
  }, 60_000);

  it('reads again all at once when archives come newest first (messages far out of time order), with the same report', async () => {
    const g = await generate(20_000, 1_000, 10, 2);
    const newestFirst = [...g.archives].reverse();
    const r = await runVerify({ config: g.config, parityLog: g.logs, sqsArchive: newestFirst, now: g.now });
    expect(reading(r)).toMatchObject({ order: 'all-at-once', fallback: expect.stringMatching(/judged missing/) });
    const before = await allAtOnce(g, newestFirst);
    expect(r.counts).toEqual({ ...before.counts, unparseable: 0 });
    expect(r.counts).toMatchObject({ missing: g.truth.missing, duplicates: g.truth.duplicates });
    expect(r.missing).toEqual(before.missing);
    expect(formatVerifyText(r)).toMatch(/read after every parity log \(read in time order until a message came after its callback was judged missing/);
    // In order, the same inputs need no second read.
    const inOrder = await runVerify({ config: g.config, parityLog: g.logs, sqsArchive: g.archives, now: g.now });
    expect(reading(inOrder).order).toBe('time');
    expect(inOrder.counts).toEqual(r.counts);
  });

  it('reads all at once when a request id is logged twice (the same log given twice), with the same report', async () => {
    const g = await generate(500, 1_000, 10, 1);
    const twice = [g.logs[0]!, ...g.logs, g.logs[0]!];
    const r = await runVerify({ config: g.config, parityLog: twice, sqsArchive: g.archives, now: g.now });
    expect(reading(r)).toMatchObject({ order: 'all-at-once', fallback: expect.stringMatching(/logged twice/) });
    const before = await allAtOnce({ ...g, logs: twice });
    expect(r.counts).toEqual({ ...before.counts, unparseable: 0 });
    expect(r.missing).toEqual(before.missing);
  });
});
