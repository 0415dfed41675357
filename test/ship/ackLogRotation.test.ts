/**
 * The ack log follows logrotate's rename (and a removal): lines after the rotation
 * go to a new file at the configured path, where verify reads them, not to the
 * rotated file; nothing is lost or written twice across the two files.
 */
import { mkdtemp, readFile, rename, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AckLog } from '../../src/ship/shipFiles.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

const lines = (text: string) => text.split('\n').filter(Boolean);

describe('the ack log under rotation', () => {
  it('writes on in a new owner-only file at its path after a rename or a removal, at most a second later', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mirror-acklog-'));
    dirs.push(dir);
    const path = join(dir, 'ack.log');
    let now = 0;
    const log = await AckLog.open(path, () => now);
    for (let i = 0; i < 3; i++) log.append(`a${i}\n`);
    await log.flush();

    await rename(path, `${path}.1`);
    // Within the second: still the handle it has (the rotated file).
    now = 500;
    log.append('a3\n');
    await log.flush();
    // A second on: the new file at the path.
    now = 1500;
    for (let i = 4; i < 6; i++) log.append(`a${i}\n`);
    await log.flush();
    expect(lines(await readFile(path, 'utf8'))).toEqual(['a4', 'a5']);

    await rm(path);
    now = 3000;
    log.append('a6\n');
    await log.close();

    expect(lines(await readFile(`${path}.1`, 'utf8'))).toEqual(['a0', 'a1', 'a2', 'a3']);
    const current = lines(await readFile(path, 'utf8'));
    expect(current).toEqual(['a6']);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
  });
});
