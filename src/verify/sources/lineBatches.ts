/**
 * Whole lines from a stream, a chunk's worth at a time: the unit the offline
 * comparator reads, parses and merges in (a promise per line would cost more than
 * the parse). Decodes as a stream, so a character split across chunks stays whole.
 */
import type { Readable } from 'node:stream';

export class LineBatches {
  private readonly chunks: AsyncIterator<string>;
  private rest = '';
  private ended = false;
  /** Number of the last line handed out (1-based), counting empty ones. */
  lineNumber = 0;
  /** After the end: the text after the last newline ('' when the input ended in one). */
  tail = '';

  constructor(input: Readable) {
    input.setEncoding('utf8');
    this.chunks = input[Symbol.asyncIterator]() as AsyncIterator<string>;
  }

  /** The next lines that ended in a newline (without it or a CR before it); undefined at the end. */
  async next(): Promise<string[] | undefined> {
    while (!this.ended) {
      const chunk = await this.chunks.next();
      if (chunk.done) {
        this.ended = true;
        this.tail = this.rest;
        this.rest = '';
        return undefined;
      }
      const text = this.rest + chunk.value;
      const lines: string[] = [];
      let from = 0;
      for (let newline = text.indexOf('\n'); newline !== -1; newline = text.indexOf('\n', from)) {
        const end = newline > from && text.charCodeAt(newline - 1) === 13 ? newline - 1 : newline;
        lines.push(text.slice(from, end));
        from = newline + 1;
      }
      this.rest = text.slice(from);
      if (lines.length > 0) return lines;
    }
    return undefined;
  }

  /** Stops reading early (the stream is destroyed). */
  async close(): Promise<void> {
    this.ended = true;
    await this.chunks.return?.();
  }
}
