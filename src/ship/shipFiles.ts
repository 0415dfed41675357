/** The shipper's own files: the checkpoint (atomic, whole or nothing) and the ack log (appended, owner-only). */
import { mkdir, open, readFile, stat, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { writeFileAtomic } from '../fs/atomicWrite.js';
import { fileIdentity } from '../fs/glob.js';
import { UsageError } from '../errors.js';
import { checkpointText, parseCheckpoint, type CheckpointFile, type ShipCheckpoint } from './shipCheckpoint.js';

export async function readCheckpoint(path: string): Promise<ShipCheckpoint | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new UsageError(`cannot read the ship checkpoint ${path}: ${(error as NodeJS.ErrnoException).code}; expected a readable file`);
  }
  const parsed = parseCheckpoint(text);
  if (!parsed.ok) throw new UsageError(`ship checkpoint ${path} is not a checkpoint (${parsed.reason}); move it away to start from the logs' beginning`);
  return parsed.checkpoint;
}

export async function writeCheckpoint(path: string, files: readonly CheckpointFile[], now: Date): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFileAtomic(path, checkpointText(files, now), 0o600);
}

/**
 * Appends ack lines as they come, coalesced: while one write is on its way the
 * next lines gather into a single write. Written data survives a SIGKILL (the
 * page cache), so a restart knows which callbacks were already answered.
 */
export class AckLog {
  private queued: string[] = [];
  private writing: Promise<void> = Promise.resolve();
  private scheduled = false;
  private lastLookMs = -Infinity;

  private constructor(
    private handle: FileHandle,
    private identity: string,
    private readonly path: string,
    private readonly now: () => number,
  ) {}

  /** `now` (tests): the clock that paces the look for a rotation (at most once a second). */
  static async open(path: string, now: () => number = Date.now): Promise<AckLog> {
    await mkdir(dirname(path), { recursive: true });
    // Owner-only although it holds no body: request ids join to bodies in the parity log.
    const handle = await open(path, 'a', 0o600);
    return new AckLog(handle, fileIdentity(await handle.stat({ bigint: true })), path, now);
  }

  append(line: string): void {
    this.queued.push(line);
    void this.flush();
  }

  /** Resolves once every line appended so far is written. */
  flush(): Promise<void> {
    if (this.queued.length > 0 && !this.scheduled) {
      this.scheduled = true;
      this.writing = this.writing.then(async () => {
        await this.followRotation();
        this.scheduled = false;
        const text = this.queued.join('');
        this.queued = [];
        return this.handle.appendFile(text);
      });
    }
    return this.writing;
  }

  async close(): Promise<void> {
    await this.flush();
    await this.handle.close();
  }

  /**
   * logrotate renames the ack log away (or removes it): lines written through the
   * old handle would go to the rotated file, compressed or deleted later, and
   * verify would miss them. At most once a second, a new file at the path, as
   * Python's WatchedFileHandler does; no signal needed.
   */
  private async followRotation(): Promise<void> {
    const now = this.now();
    if (now - this.lastLookMs < 1000) return;
    this.lastLookMs = now;
    const atPath = await stat(this.path, { bigint: true }).catch(() => undefined);
    if (atPath && fileIdentity(atPath) === this.identity) return;
    const next = await open(this.path, 'a', 0o600);
    const old = this.handle;
    this.handle = next;
    this.identity = fileIdentity(await next.stat({ bigint: true }));
    await old.close();
  }
}

/**
 * Request ids with a final answer among the last `maxBytes` of the ack log. After
 * a crash, the lines past the checkpoint whose answer is already recorded here are
 * not sent again: only what was on the wire is.
 */
export async function recentlyAnswered(path: string, maxBytes = 4 << 20): Promise<Set<string>> {
  const ids = new Set<string>();
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch {
    return ids;
  }
  try {
    const size = Number((await handle.stat()).size);
    const start = Math.max(0, size - maxBytes);
    const buffer = Buffer.alloc(size - start);
    await handle.read(buffer, 0, buffer.length, start);
    const lines = buffer.toString('utf8').split('\n');
    if (start > 0) lines.shift();
    for (const line of lines) {
      const m = /"request_id":"([0-9a-f]{32})"/.exec(line);
      if (m && line.endsWith('}')) ids.add(m[1]!);
    }
  } finally {
    await handle.close();
  }
  return ids;
}
