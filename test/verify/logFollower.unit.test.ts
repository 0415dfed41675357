/** Following parity logs on a real file system, the way logrotate and nginx move them. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { appendFile, mkdtemp, rename, rm, truncate, writeFile, copyFile, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LogFollower, type LineSource } from '../../src/verify/sources/logFollower.js';

let dir: string;
let follower: LogFollower | undefined;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mirror-follow-'));
});
afterEach(async () => {
  await follower?.close();
  follower = undefined;
  await rm(dir, { recursive: true, force: true });
});

function follow(patterns: string[], options: ConstructorParameters<typeof LogFollower>[2] = {}) {
  const lines: { text: string; source: LineSource }[] = [];
  follower = new LogFollower(patterns, (text, source) => lines.push({ text, source }), options);
  return { follower, lines, texts: () => lines.map((l) => l.text) };
}

describe('LogFollower', () => {
  it('hands over a half-written trailing line only once its newline arrives, and splits multi-byte characters correctly', async () => {
    const log = join(dir, 'parity.log');
    await writeFile(log, 'one\ntw');
    const { follower, texts, lines } = follow([log]);
    await follower.poll();
    expect(texts()).toEqual(['one']);
    // The rest of the line, with a Korean character split across two writes.
    const name = Buffer.from('홍길동', 'utf8');
    await appendFile(log, Buffer.concat([Buffer.from('o '), name.subarray(0, 4)]));
    await follower.poll();
    expect(texts()).toEqual(['one']);
    await appendFile(log, Buffer.concat([name.subarray(4), Buffer.from('\r\n\nthree\n')]));
    await follower.poll();
    expect(texts()).toEqual(['one', 'two 홍길동', 'three']);
    expect(lines.map((l) => l.source.line)).toEqual([1, 2, 4]);
    await follower.poll();
    expect(texts()).toHaveLength(3);
  });

  it('rename rotation: reads the renamed file to its end (nginx writes there until it reopens), then the new file, each line once', async () => {
    const log = join(dir, 'parity.log');
    await writeFile(log, 'a1\na2\n');
    const { follower, texts } = follow([log], { rotatedIdleMs: 60_000 });
    await follower.poll();
    await rename(log, `${log}.1`);
    // nginx has not reopened yet: it still appends to the renamed file.
    await appendFile(`${log}.1`, 'a3\n');
    await writeFile(log, 'b1\n');
    await follower.poll();
    await appendFile(`${log}.1`, 'a4\n');
    await appendFile(log, 'b2\n');
    await follower.poll();
    expect(texts().filter((t) => t.startsWith('a'))).toEqual(['a1', 'a2', 'a3', 'a4']);
    expect(texts().filter((t) => t.startsWith('b'))).toEqual(['b1', 'b2']);
    expect(follower.rotations).toBe(1);
    expect(follower.openFiles).toBe(2);
  });

  it('rename rotation under a glob that also matches the renamed file: the same file, not read twice', async () => {
    const log = join(dir, 'parity.log');
    await writeFile(log, 'a1\n');
    const { follower, texts } = follow([join(dir, 'parity.log*')]);
    await follower.poll();
    await rename(log, `${log}.1`);
    await appendFile(`${log}.1`, 'a2\n');
    await writeFile(log, 'b1\n');
    await follower.poll();
    await follower.poll();
    expect([...texts()].sort()).toEqual(['a1', 'a2', 'b1']);
    expect(follower.rotations).toBe(1);
  });

  it('closes a renamed-away file once it has been idle, so rotations do not pile up open handles', async () => {
    let now = 1_000_000;
    const log = join(dir, 'parity.log');
    await writeFile(log, 'a1\n');
    const { follower, texts } = follow([log], { rotatedIdleMs: 30_000, now: () => now });
    await follower.poll();
    await rename(log, `${log}.1`);
    await writeFile(log, 'b1\n');
    await follower.poll();
    expect(follower.openFiles).toBe(2);
    now += 31_000;
    await follower.poll();
    expect(follower.openFiles).toBe(1);
    await unlink(`${log}.1`);
    await appendFile(log, 'b2\n');
    await follower.poll();
    expect(texts()).toEqual(['a1', 'b1', 'b2']);
  });

  it('copytruncate: the same file emptied and written again is read from its start', async () => {
    const log = join(dir, 'parity.log');
    await writeFile(log, 'a1\na2\nhalf');
    const { follower, texts, lines } = follow([log]);
    await follower.poll();
    await copyFile(log, `${log}.1`);
    await truncate(log, 0);
    await appendFile(log, 'b1\n');
    await follower.poll();
    // The unfinished line went with logrotate's copy; the new first line is line 1 again.
    expect(texts()).toEqual(['a1', 'a2', 'b1']);
    expect(lines.at(-1)!.source).toEqual({ file: log, line: 1 });
    expect(follower.rotations).toBe(1);
    expect(follower.openFiles).toBe(1);
  });

  it('fromStart false: skips what is in place at the first poll, reads a file that appears later from its start', async () => {
    const log = join(dir, 'parity.log');
    await writeFile(log, 'old\n');
    const { follower, texts } = follow([log, join(dir, 'other-*.log')], { fromStart: false });
    await follower.poll();
    await appendFile(log, 'new\n');
    await writeFile(join(dir, 'other-1.log'), 'later\n');
    await follower.poll();
    expect(texts()).toEqual(['new', 'later']);
  });

  it('a pattern naming no file yet is not an error: the file is followed once it exists', async () => {
    const log = join(dir, 'parity.log');
    const { follower, texts } = follow([log]);
    await follower.poll();
    await writeFile(log, 'first\n');
    await follower.poll();
    expect(texts()).toEqual(['first']);
  });
});
