/** The shipper's own files: the checkpoint (atomic, whole or nothing) and the ack log (appended, owner-only). */
import { mkdir, open, readFile, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { writeFileAtomic } from '../fs/atomicWrite.js';
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

/** Appends ack lines; `flush` resolves once everything appended so far is written. */
export class AckLog {
  private queued: string[] = [];
  private writing: Promise<void> = Promise.resolve();

  private constructor(private readonly handle: FileHandle) {}

  static async open(path: string): Promise<AckLog> {
    await mkdir(dirname(path), { recursive: true });
    // Owner-only although it holds no body: request ids join to bodies in the parity log.
    return new AckLog(await open(path, 'a', 0o600));
  }

  append(line: string): void {
    this.queued.push(line);
  }

  flush(): Promise<void> {
    if (this.queued.length > 0) {
      const text = this.queued.join('');
      this.queued = [];
      this.writing = this.writing.then(() => this.handle.appendFile(text));
    }
    return this.writing;
  }

  async close(): Promise<void> {
    await this.flush();
    await this.handle.close();
  }
}
