/**
 * Reads parity logs for `mirror verify`: files, globs (several nginx hosts, rotated
 * files), `-` for stdin, gzip-rotated files. A line that does not parse is counted
 * with its file and line, never fatal; a trailing line with no newline is being
 * written right now and is left for later.
 */
import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';
import { UsageError } from '../errors.js';
import { expandGlob, hasGlob } from '../fs/glob.js';
import { parseParityLogLine } from './parityLogLine.js';
import type { CallbackRecord } from './records.js';

export interface UnparseableLine {
  file: string;
  line: number;
  reason: string;
}

export interface ParityLogRead {
  files: string[];
  records: number;
  unparseable: number;
  /** First unparseable lines (file, line, reason; never the text). */
  unparseableList: UnparseableLine[];
  /** Files whose last line had no newline yet (being written). */
  incompleteTail: string[];
}

export async function readParityLogs(
  patterns: readonly string[],
  onRecord: (record: CallbackRecord) => void,
  options: { stdin?: Readable; listLimit?: number } = {},
): Promise<ParityLogRead> {
  const files: string[] = [];
  for (const pattern of patterns) {
    if (pattern === '-') {
      files.push('-');
      continue;
    }
    const matched = await expandGlob(pattern);
    if (hasGlob(pattern) && matched.length === 0) throw new UsageError(`--parity-log ${pattern} matches no file; expected a parity log path or glob`);
    files.push(...matched);
  }
  const result: ParityLogRead = { files, records: 0, unparseable: 0, unparseableList: [], incompleteTail: [] };
  for (const file of files) {
    const input = file === '-' ? (options.stdin ?? process.stdin) : await openLog(file);
    await readLines(input, file, (text, line, complete) => {
      if (!complete) {
        result.incompleteTail.push(file);
        return;
      }
      if (text.trim() === '') return;
      const parsed = parseParityLogLine(text, { file, line });
      if (parsed.ok) {
        result.records++;
        onRecord(parsed.record);
      } else {
        result.unparseable++;
        if (result.unparseableList.length < (options.listLimit ?? 100)) result.unparseableList.push({ file, line, reason: parsed.reason });
      }
    });
  }
  return result;
}

async function openLog(file: string): Promise<Readable> {
  const stream = createReadStream(file);
  await new Promise<void>((resolve, reject) => {
    stream.once('open', () => resolve());
    stream.once('error', (error: NodeJS.ErrnoException) =>
      reject(new UsageError(`cannot read parity log ${file}: ${error.code ?? error.message}; expected a readable file`)),
    );
  });
  return file.endsWith('.gz') ? stream.pipe(createGunzip()) : stream;
}

/** Calls `onLine` per line; the last one is `complete: false` when the input did not end in a newline. */
async function readLines(input: Readable, file: string, onLine: (text: string, line: number, complete: boolean) => void): Promise<void> {
  let pending = '';
  let line = 0;
  // Decode as a stream, so a character split across two chunks stays whole.
  input.setEncoding('utf8');
  try {
    for await (const chunk of input) {
      pending += chunk as string;
      let newline: number;
      while ((newline = pending.indexOf('\n')) !== -1) {
        onLine(pending.slice(0, newline).replace(/\r$/, ''), ++line, true);
        pending = pending.slice(newline + 1);
      }
    }
  } catch (error) {
    throw new UsageError(`cannot read parity log ${file}: ${(error as Error).message}`);
  }
  if (pending.length > 0) onLine(pending, ++line, false);
}

