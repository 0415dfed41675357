/**
 * Follows parity logs for `mirror ship`, as bytes and by pull: the shipper asks for
 * the next lines only when its in-flight window has room, so a target that is down
 * leaves the backlog in the log, not in memory.
 *
 * Rotation works as in `verify --watch` (src/verify/logFollower.ts): files are
 * keyed by device and inode; a renamed file is read to its end through its open
 * handle while the new file is read from its start; a half-written last line waits
 * for its newline. It differs from that follower in three ways the shipper needs:
 * lines stay bytes (nginx writes bytes above 0x7F raw), each line carries the
 * offset just after it (the checkpoint), and a file starts where the checkpoint
 * says. copytruncate is followed (read again from 0) but can lose what nginx wrote
 * during the copy (logrotate(8)); use rename rotation with `nginx -s reopen`.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { namedLogFiles } from '../fs/glob.js';

export interface TailLine {
  fileId: string;
  path: string;
  /** Byte offset just after this line's newline. */
  end: number;
  bytes: Buffer;
}

export interface ParityLogTailOptions {
  /** Where a newly found file starts: the checkpoint's offset for its identity, or 0. */
  startAt: (fileId: string, size: number) => number;
  /** How long a file no pattern names any more is kept open for late writes (default 60 s). */
  rotatedIdleMs?: number;
  /** At most this often the patterns are expanded again while data flows (default 250 ms). */
  discoverEveryMs?: number;
  chunkBytes?: number;
  now?: () => number;
  onTruncated?: (fileId: string) => void;
}

interface TailedFile {
  id: string;
  path: string;
  handle: FileHandle;
  /** Next byte to read. */
  readOffset: number;
  /** Bytes read after the last newline. */
  pending: Buffer;
  lastActiveMs: number;
  named: boolean;
}

export class ParityLogTail {
  private readonly files = new Map<string, TailedFile>();
  private lastDiscoveryMs = -Infinity;
  private readonly chunkBytes: number;
  rotations = 0;

  constructor(
    private readonly patterns: readonly string[],
    private readonly options: ParityLogTailOptions,
  ) {
    this.chunkBytes = options.chunkBytes ?? 1 << 16;
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  /** The next complete lines of one file (a chunk's worth), renamed files first; [] when nothing new. */
  async next(): Promise<TailLine[]> {
    const now = this.now();
    if (now - this.lastDiscoveryMs >= (this.options.discoverEveryMs ?? 250)) await this.discover(now);
    for (const file of this.ordered()) {
      const lines = await this.readChunk(file);
      if (lines.length > 0) return lines;
    }
    // Nothing new anywhere: look for new files now, and close rotated ones gone idle.
    if (now !== this.lastDiscoveryMs) {
      await this.discover(now);
      for (const file of this.ordered()) {
        const lines = await this.readChunk(file);
        if (lines.length > 0) return lines;
      }
    }
    return [];
  }

  /** Followed files, with how many bytes of each are not yet read. */
  async backlog(): Promise<{ fileId: string; path: string; unreadBytes: number }[]> {
    const result = [];
    for (const file of this.files.values()) {
      const size = Number((await file.handle.stat()).size);
      result.push({ fileId: file.id, path: file.path, unreadBytes: Math.max(0, size - file.readOffset) + file.pending.length });
    }
    return result;
  }

  paths(): Map<string, string> {
    return new Map([...this.files.values()].map((f) => [f.id, f.path]));
  }

  async close(): Promise<void> {
    for (const file of this.files.values()) await file.handle.close().catch(() => undefined);
    this.files.clear();
  }

  /** Renamed-away files first, so the older lines of a rotation go out before the newer. */
  private ordered(): TailedFile[] {
    const all = [...this.files.values()];
    return [...all.filter((f) => !f.named), ...all.filter((f) => f.named)];
  }

  private async discover(now: number): Promise<void> {
    this.lastDiscoveryMs = now;
    const named = await namedLogFiles(this.patterns);
    for (const [id, { path }] of named) {
      const known = this.files.get(id);
      if (known) {
        if (known.path !== path) this.rotations++;
        known.path = path;
        known.named = true;
        known.lastActiveMs = now;
        continue;
      }
      const handle = await open(path, 'r').catch(() => undefined);
      if (!handle) continue;
      const size = Number((await handle.stat()).size);
      this.files.set(id, { id, path, handle, readOffset: this.options.startAt(id, size), pending: Buffer.alloc(0), lastActiveMs: now, named: true });
    }
    for (const [id, file] of this.files) {
      if (named.has(id)) continue;
      if (file.named) this.rotations++;
      file.named = false;
      const size = Number((await file.handle.stat()).size);
      // Renamed away or deleted, fully read, and idle: nginx has reopened its logs.
      if (size <= file.readOffset && now - file.lastActiveMs >= (this.options.rotatedIdleMs ?? 60_000)) {
        await file.handle.close().catch(() => undefined);
        this.files.delete(id);
      }
    }
  }

  /**
   * The next complete lines of `file`. A line longer than a chunk (a large body)
   * is read on at once, each read as large as what is pending so copying stays
   * linear, rather than one chunk per call with the caller's idle wait between.
   */
  private async readChunk(file: TailedFile): Promise<TailLine[]> {
    for (;;) {
      const { lines, more } = await this.readOnce(file);
      if (lines.length > 0 || !more) return lines;
    }
  }

  private async readOnce(file: TailedFile): Promise<{ lines: TailLine[]; more: boolean }> {
    const size = Number((await file.handle.stat()).size);
    if (size < file.readOffset) {
      // copytruncate: the same inode, emptied; what follows is new.
      file.readOffset = 0;
      file.pending = Buffer.alloc(0);
      this.rotations++;
      this.options.onTruncated?.(file.id);
    }
    if (size === file.readOffset) return { lines: [], more: false };
    // Each chunk is read into memory of its own, after the half-written line kept
    // from the last one: the lines handed over point into it (no copy), and stay
    // valid for as long as the caller holds them, whatever is read next.
    const chunk = Buffer.allocUnsafeSlow(file.pending.length + Math.min(Math.max(this.chunkBytes, file.pending.length), size - file.readOffset));
    file.pending.copy(chunk);
    const { bytesRead } = await file.handle.read(chunk, file.pending.length, chunk.length - file.pending.length, file.readOffset);
    if (bytesRead === 0) return { lines: [], more: false };
    file.lastActiveMs = this.now();
    const base = file.readOffset - file.pending.length;
    const data = chunk.subarray(0, file.pending.length + bytesRead);
    file.readOffset += bytesRead;
    const lines: TailLine[] = [];
    let start = 0;
    for (let nl = data.indexOf(0x0a); nl >= 0; nl = data.indexOf(0x0a, start)) {
      const end = nl > start && data[nl - 1] === 0x0d ? nl - 1 : nl;
      lines.push({ fileId: file.id, path: file.path, end: base + nl + 1, bytes: data.subarray(start, end) });
      start = nl + 1;
    }
    // The part after the last newline is being written: kept (copied, so the chunk
    // is not held for it) until the rest comes.
    file.pending = Buffer.from(data.subarray(start));
    return { lines, more: file.readOffset < size };
  }
}
