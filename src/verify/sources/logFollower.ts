/**
 * Follows parity logs like `tail -F`, keyed by file identity (device and inode),
 * not by name:
 *
 * - rename rotation (logrotate's default): nginx keeps writing to the renamed file
 *   until it reopens its logs (`nginx -s reopen`, USR1), so the old file stays open
 *   and is read to its end while the new one is followed from its start. A renamed
 *   file that a glob still matches (`parity.log*` sees `parity.log.1`) is the same
 *   file, never read twice.
 * - copytruncate: the same inode, shorter than what was read, so it is read again
 *   from its start. What nginx wrote between logrotate's copy and its truncate is
 *   lost to every reader; that is copytruncate's own documented race
 *   (logrotate(8), "copytruncate"), and why rename rotation is the safer setup.
 * - a line is handed over only once its newline has been written; a half-written
 *   trailing line waits for the rest.
 *
 * Memory: one open handle per file still being written, plus each file's
 * unfinished last line. A file that no pattern names any more is closed once it has
 * been idle for `rotatedIdleMs`.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';
import { namedLogFiles } from '../../fs/glob.js';

export interface LineSource {
  file: string;
  /** 1-based line number in the file (counted again from 1 after a truncation). */
  line: number;
}

export interface LogFollowerOptions {
  /**
   * Read files that exist at the first poll from their start (true, the default),
   * or only what is appended after it (false, like `tail -F -n 0`). Files that
   * appear later, a rotation's new file among them, are always read from the start.
   */
  fromStart?: boolean;
  /** How long a file no pattern names any more is kept open for late writes (default 60 s). */
  rotatedIdleMs?: number;
  /** Clock, for tests of the idle close. */
  now?: () => number;
}

interface Followed {
  /** The name it was last seen under. */
  path: string;
  handle: FileHandle;
  offset: number;
  line: number;
  decoder: StringDecoder;
  pending: string;
  /** Last time this file grew or was named by a pattern. */
  lastActiveMs: number;
  /** No longer under the name it was first found at. */
  renamed: boolean;
}

const chunkBytes = 1 << 16;

export class LogFollower {
  /** Followed files by `dev:ino`. */
  private readonly files = new Map<string, Followed>();
  private polled = false;
  private readonly buffer = Buffer.alloc(chunkBytes);
  /** Files that were renamed away or truncated (for the report). */
  rotations = 0;

  constructor(
    private readonly patterns: readonly string[],
    private readonly onLine: (text: string, source: LineSource) => void,
    private readonly options: LogFollowerOptions = {},
  ) {}

  /** Files currently open (the old file of a rename rotation counts until it is closed). */
  get openFiles(): number {
    return this.files.size;
  }

  /** Reads whatever has been appended since the last call, every followed file. */
  async poll(): Promise<void> {
    const now = (this.options.now ?? Date.now)();
    const named = await namedLogFiles(this.patterns);
    for (const [id, { path, size }] of named) {
      let followed = this.files.get(id);
      if (!followed) {
        // Read the file that is in place now from where the options say; any later one from its start.
        const handle = await open(path, 'r').catch(() => undefined);
        if (!handle) continue;
        const fromEnd = !this.polled && this.options.fromStart === false;
        followed = { path, handle, offset: fromEnd ? size : 0, line: 0, decoder: new StringDecoder('utf8'), pending: '', lastActiveMs: now, renamed: false };
        this.files.set(id, followed);
      } else if (followed.path !== path) {
        // Renamed (parity.log -> parity.log.1) and a glob still names it: the same file, read on from where it was.
        if (!followed.renamed) this.rotations++;
        followed.renamed = true;
        followed.path = path;
      }
      followed.lastActiveMs = now;
    }
    for (const [id, followed] of this.files) {
      if (!named.has(id) && !followed.renamed) {
        // Renamed away (or deleted) and no pattern names it: read on through the open handle.
        followed.renamed = true;
        this.rotations++;
      }
      const grew = await this.drain(followed);
      if (grew) followed.lastActiveMs = now;
      if (!named.has(id) && now - followed.lastActiveMs >= (this.options.rotatedIdleMs ?? 60_000)) {
        // Renamed or deleted, no pattern names it, and nothing written for a while: nginx has reopened its logs.
        await followed.handle.close();
        this.files.delete(id);
      }
    }
    this.polled = true;
  }

  /** Reads to the end of the file; true when anything was read. */
  private async drain(f: Followed): Promise<boolean> {
    const size = Number((await f.handle.stat({ bigint: true })).size);
    if (size < f.offset) {
      // copytruncate: the same file, emptied; what follows is new. An unfinished line went with the copy.
      f.offset = 0;
      f.pending = '';
      f.decoder = new StringDecoder('utf8');
      f.line = 0;
      this.rotations++;
    }
    let grew = false;
    for (;;) {
      const { bytesRead } = await f.handle.read(this.buffer, 0, chunkBytes, f.offset);
      if (bytesRead === 0) return grew;
      grew = true;
      f.offset += bytesRead;
      const text = f.pending + f.decoder.write(this.buffer.subarray(0, bytesRead));
      const lines = text.split('\n');
      // The last piece has no newline yet: kept until the rest of it is written.
      f.pending = lines.pop()!;
      for (const raw of lines) {
        f.line++;
        const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
        if (line.trim() !== '') this.onLine(line, { file: f.path, line: f.line });
      }
    }
  }

  async close(): Promise<void> {
    for (const f of this.files.values()) await f.handle.close();
    this.files.clear();
  }
}
