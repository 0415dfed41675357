/**
 * Pure: how far each parity log is shipped. Lines finish out of order (a retried
 * callback is overtaken by later ones); the checkpoint may only move past a line
 * once it and every line before it in its file have their final answer. So per
 * file, the committed offset is the end of the longest finished prefix.
 */
export interface WatermarkTicket {
  fileId: string;
  /** Index in the file's queue, for `finish`. */
  readonly seq: number;
}

interface FileQueue {
  committed: number;
  /** End offsets of lines handed out and not yet committed, in file order. */
  ends: number[];
  done: boolean[];
  /** seq of ends[0]. */
  firstSeq: number;
}

export class ShipWatermark {
  private readonly files = new Map<string, FileQueue>();

  /** Where shipping of a file starts (from the checkpoint, or 0). */
  start(fileId: string, offset: number): void {
    this.files.set(fileId, { committed: offset, ends: [], done: [], firstSeq: 0 });
  }

  /** A line that ends at `endOffset` was read and handed out. */
  add(fileId: string, endOffset: number): WatermarkTicket {
    let file = this.files.get(fileId);
    if (!file) {
      file = { committed: 0, ends: [], done: [], firstSeq: 0 };
      this.files.set(fileId, file);
    }
    file.ends.push(endOffset);
    file.done.push(false);
    return { fileId, seq: file.firstSeq + file.ends.length - 1 };
  }

  /** The line's answer is final (or it needed none). */
  finish(ticket: WatermarkTicket): void {
    const file = this.files.get(ticket.fileId);
    if (!file) return;
    const index = ticket.seq - file.firstSeq;
    if (index < 0 || index >= file.done.length) return;
    file.done[index] = true;
    let n = 0;
    while (n < file.done.length && file.done[n]) n++;
    if (n === 0) return;
    file.committed = file.ends[n - 1]!;
    file.ends.splice(0, n);
    file.done.splice(0, n);
    file.firstSeq += n;
  }

  /** Lines handed out and not yet committed, all files. */
  get outstanding(): number {
    let n = 0;
    for (const file of this.files.values()) n += file.ends.length;
    return n;
  }

  committed(fileId: string): number | undefined {
    return this.files.get(fileId)?.committed;
  }

  /** Drops a file that is fully committed and no longer followed. */
  forget(fileId: string): boolean {
    const file = this.files.get(fileId);
    if (file && file.ends.length === 0) {
      this.files.delete(fileId);
      return true;
    }
    return false;
  }

  entries(): { fileId: string; offset: number }[] {
    return [...this.files].map(([fileId, file]) => ({ fileId, offset: file.committed }));
  }
}
