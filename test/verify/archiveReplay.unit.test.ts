/** Offline replay of consume archives: streamed, and a torn line is counted, not fatal. */
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runVerify, formatVerifyText } from '../../src/commands/verify.js';
import { exampleConfig, withValue, writeConfigFile } from '../support/config.js';
import { numberedRequestId, parityLine } from '../support/parityLog.js';

const id = numberedRequestId;

describe('verify --sqs-archive', () => {
  it('reads every whole message around a fragment a killed run left, and reports where the fragment is', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mirror-archive-'));
    const old = Date.now() - 10 * 60_000;
    const bodies = Array.from({ length: 12 }, (_, i) => JSON.stringify({ MSGID: `m${i}`, RESULT: '7000' }));
    const log = join(dir, 'parity.log');
    await writeFile(
      log,
      `${bodies.map((body, i) => parityLine(id(i), body, { msec: old })).join('\n')}\n`,
    );
    const message = (i: number) => JSON.stringify({ messageId: `q${i}`, body: bodies[i], attributes: { 'mirror-request-id': id(i) }, sentTimestampMs: old + 20 });
    const archive = join(dir, 'archive.jsonl');
    // Six whole lines, a torn one (then the newline the next run adds), six more.
    await writeFile(archive, `${[0, 1, 2, 3, 4, 5].map(message).join('\n')}\n{"messageId":"q6","bo\n${[6, 7, 8, 9, 10, 11].map(message).join('\n')}\n`);
    const config = await writeConfigFile(withValue(exampleConfig(), 'verify', { grace: '1m', gate: 0.999, minSample: 10 }), dir);
    const report = await runVerify({ config, parityLog: [log], sqsArchive: [archive] });
    expect(report.counts).toMatchObject({ callbacks: 12, matched: 12, missing: 0 });
    expect(report.sqs).toMatchObject({ messages: 12, unreadable: [{ file: archive, line: 7 }] });
    expect(report.exitCode).toBe(0);
    expect(formatVerifyText(report)).toMatch(/1 unreadable line\(s\), first .*archive\.jsonl:7/);
    // Without --parity-log, the config's parityLog.path is read.
    await mkdir(join(dir, 'sub'));
    const fromConfig = await writeConfigFile(withValue(withValue(exampleConfig(), 'verify', { grace: '1m', gate: 0.999, minSample: 10 }), 'parityLog.path', log), join(dir, 'sub'));
    expect((await runVerify({ config: fromConfig, sqsArchive: [archive] })).counts).toMatchObject({ callbacks: 12, matched: 12 });
  });
});
