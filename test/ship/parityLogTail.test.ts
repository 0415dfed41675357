/** The shipper's log follower on real files: bytes kept raw, half-written lines wait, rename rotation, resume at an offset. */
import { appendFile, mkdtemp, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ParityLogTail, type TailLine } from '../../src/ship/parityLogTail.js';

const dirs: string[] = [];
const tails: ParityLogTail[] = [];
afterEach(async () => {
  for (const t of tails.splice(0)) await t.close();
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function setup(startAt: (id: string, size: number) => number = () => 0) {
  const dir = await mkdtemp(join(tmpdir(), 'mirror-tail-'));
  dirs.push(dir);
  const log = join(dir, 'parity.log');
  let now = 0;
  const tail = new ParityLogTail([`${log}*`], { startAt, discoverEveryMs: 0, rotatedIdleMs: 1000, now: () => now });
  tails.push(tail);
  const drain = async () => {
    const lines: TailLine[] = [];
    for (let got = await tail.next(); got.length > 0; got = await tail.next()) lines.push(...got);
    return lines;
  };
  return { dir, log, tail, drain, advance: (ms: number) => (now += ms) };
}

describe('the ship log follower', () => {
  it('hands a line over only with its newline, as the bytes written, with the offset after it', async () => {
    const { log, drain } = await setup();
    const raw = Buffer.from([0x7b, 0xff, 0xc3, 0x28, 0x7d]);
    await writeFile(log, Buffer.concat([Buffer.from('{"a":1}\n'), raw.subarray(0, 2)]));
    const first = await drain();
    expect(first.map((l) => [l.bytes.toString(), l.end])).toEqual([['{"a":1}', 8]]);
    await appendFile(log, Buffer.concat([raw.subarray(2), Buffer.from('\n')]));
    const second = await drain();
    expect(second).toHaveLength(1);
    expect(second[0]!.bytes.equals(raw)).toBe(true);
    expect(second[0]!.end).toBe(8 + raw.length + 1);
  });

  it('follows a rename rotation by inode: the old file to its end, the new one from its start, nothing twice', async () => {
    const { log, drain, advance, tail } = await setup();
    await writeFile(log, 'one\n');
    expect((await drain()).map((l) => l.bytes.toString())).toEqual(['one']);
    const info = await stat(log);
    const oldId = `${info.dev}:${info.ino}`;
    await rename(log, `${log}.1`);
    await appendFile(`${log}.1`, 'two\n'); // nginx writes on until it reopens
    await writeFile(log, 'three\n');
    const after = await drain();
    expect(after.map((l) => l.bytes.toString()).sort()).toEqual(['three', 'two']);
    expect(after.find((l) => l.bytes.toString() === 'two')!.fileId).toBe(oldId);
    expect(tail.rotations).toBeGreaterThanOrEqual(1);
    advance(5000);
    await appendFile(log, 'four\n');
    expect((await drain()).map((l) => l.bytes.toString())).toEqual(['four']);
  });

  it('hands over a line many chunks long in one call, byte for byte (a large body is not read a chunk per idle wait)', async () => {
    const { log, tail } = await setup();
    const big = Buffer.alloc(1_000_000 + 17, 0xe3);
    await writeFile(log, Buffer.concat([big, Buffer.from('\n{"b":2}\n')]));
    const got = await tail.next();
    expect(got.map((l) => l.end)).toEqual([big.length + 1, big.length + 9]);
    expect(got[0]!.bytes.equals(big)).toBe(true);
    expect(await tail.next()).toEqual([]);
  });

  it('starts a file where the checkpoint says', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mirror-tail-'));
    dirs.push(dir);
    const log = join(dir, 'parity.log');
    await writeFile(log, 'one\ntwo\nthree\n');
    const id = `${(await stat(log)).dev}:${(await stat(log)).ino}`;
    const tail = new ParityLogTail([log], { startAt: (fileId) => (fileId === id ? 8 : 0), discoverEveryMs: 0 });
    tails.push(tail);
    expect((await tail.next()).map((l) => [l.bytes.toString(), l.end])).toEqual([['three', 14]]);
  });
});
