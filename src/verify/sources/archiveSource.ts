/**
 * Reads the archives `verify --mode consume` writes (one JSON QueueMessage per
 * line), in the order given, a chunk's worth at a time. Archives outgrow any one
 * string, so they are streamed. A line that is not a whole archived message, such
 * as the fragment a killed consume run leaves, is counted with its place, never
 * fatal: every whole line around it still counts.
 */
import { createReadStream } from 'node:fs';
import { UsageError } from '../../errors.js';
import { LineBatches } from './lineBatches.js';
import type { QueueMessage } from '../engine/records.js';

export class ArchiveBatches {
  messages = 0;
  readonly unreadable: { file: string; line: number }[] = [];
  private index = -1;
  private lines: LineBatches | undefined;

  /** `files` are read one after the other: that order decides which copy of a duplicated message is matched. */
  constructor(readonly files: readonly string[]) {}

  /** The next messages in archive order (possibly none); undefined after the last archive. */
  async next(): Promise<QueueMessage[] | undefined> {
    for (;;) {
      if (!this.lines) {
        if (++this.index >= this.files.length) return undefined;
        this.lines = new LineBatches(await openArchive(this.files[this.index]!));
      }
      const file = this.files[this.index]!;
      let lines = await this.lines.next();
      if (!lines) {
        // Like readline, a last line without a newline is still a line.
        lines = this.lines.tail.length > 0 ? [this.lines.tail] : [];
        this.lines.tail = '';
        if (lines.length === 0) {
          this.lines = undefined;
          continue;
        }
      }
      const messages: QueueMessage[] = [];
      let line = this.lines.lineNumber;
      for (const whole of lines) {
        // readline (which this reader replaced) also ends a line at a lone CR.
        for (const text of whole.includes('\r') ? whole.split('\r') : [whole]) {
          line++;
          if (text.trim() === '') continue;
          const message = parseArchivedMessage(text);
          if (message) messages.push(message);
          else this.unreadable.push({ file, line });
        }
      }
      this.lines.lineNumber = line;
      this.messages += messages.length;
      return messages;
    }
  }

  async close(): Promise<void> {
    await this.lines?.close();
    this.lines = undefined;
    this.index = this.files.length;
  }
}

function parseArchivedMessage(text: string): QueueMessage | undefined {
  let m: QueueMessage | undefined;
  try {
    m = JSON.parse(text) as QueueMessage;
  } catch {
    return undefined;
  }
  return m && typeof m === 'object' && typeof m.body === 'string' ? m : undefined;
}

async function openArchive(file: string) {
  const stream = createReadStream(file);
  await new Promise<void>((resolve, reject) => {
    stream.once('open', () => resolve());
    stream.once('error', (error: NodeJS.ErrnoException) => reject(new UsageError(`cannot read SQS archive ${file}: ${error.code ?? error.message}`)));
  });
  return stream;
}
