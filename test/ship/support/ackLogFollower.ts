/**
 * Reads the shipper's ack log as it grows, from where the last read stopped: a
 * test waiting for 10,000 answers polls it every 100 ms, and re-reading and
 * parsing the whole file each time cost more CPU, in the process that also runs
 * the gateway stand-in, as the log grew (2.5 MB, 10,000 JSON.parse calls, per poll).
 */
import { open } from 'node:fs/promises';
import type { AckRecord } from '../../../src/ship/ackRecord.js';

export class AckLogFollower {
  private offset = 0;
  private partial = '';
  /** Every complete line read so far, in the order written. */
  readonly records: AckRecord[] = [];
  /** Request ids with a `delivered` line. */
  readonly delivered = new Set<string>();

  constructor(readonly path: string) {}

  /** Reads what was appended since the last call; a line without its newline yet waits. */
  async poll(): Promise<this> {
    const handle = await open(this.path, 'r').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      throw error;
    });
    if (!handle) return this;
    try {
      const size = Number((await handle.stat()).size);
      if (size <= this.offset) return this;
      const buffer = Buffer.alloc(size - this.offset);
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, this.offset);
      this.offset += bytesRead;
      // Ack lines hold no bytes above 0x7F but request ids and ASCII names, so a chunk never splits a character.
      const lines = (this.partial + buffer.subarray(0, bytesRead).toString('utf8')).split('\n');
      this.partial = lines.pop()!;
      for (const line of lines) {
        if (!line) continue;
        const record = JSON.parse(line) as AckRecord;
        this.records.push(record);
        if (record.outcome === 'delivered') this.delivered.add(record.request_id);
      }
    } finally {
      await handle.close();
    }
    return this;
  }
}
