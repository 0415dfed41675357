/**
 * Reads parity logs for `mirror verify`: files, globs (several nginx hosts, rotated
 * files), `-` for stdin, gzip-rotated files. A line that does not parse is counted
 * with its file and line, never fatal; a trailing line with no newline is being
 * written right now and is left for later.
 */
import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';
import { UsageError } from '../../errors.js';
import { expandGlob, hasGlob } from '../../fs/glob.js';
import { LineBatches } from './lineBatches.js';
import { parseParityLogLine } from '../engine/parityLogLine.js';
import type { CallbackRecord } from '../engine/records.js';

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
  const files = await resolveParityLogs(patterns);
  const logs: ParityLogBatches[] = [];
  for (const file of files) {
    const log = await openParityLog(file, options);
    logs.push(log);
    for (let batch = await log.next(); batch; batch = await log.next()) for (const record of batch) onRecord(record);
  }
  return parityLogRead(files, logs, options.listLimit);
}

/** The files a list of `--parity-log` patterns names, in order (`-` for stdin stays `-`). */
export async function resolveParityLogs(patterns: readonly string[]): Promise<string[]> {
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
  return files;
}

/** Opens one parity log (`-` is stdin) for reading in batches; a file that cannot be opened is a UsageError. */
export async function openParityLog(file: string, options: { stdin?: Readable; listLimit?: number } = {}): Promise<ParityLogBatches> {
  const input = file === '-' ? (options.stdin ?? process.stdin) : await openLog(file);
  return new ParityLogBatches(file, input, options.listLimit ?? 100);
}

/**
 * One parity log's callbacks, a chunk's worth at a time and in file order, with
 * its own tally of records and unparseable lines. Its `timeMs` is what the
 * offline comparator merges several hosts' logs by.
 */
export class ParityLogBatches {
  records = 0;
  unparseable = 0;
  readonly unparseableList: UnparseableLine[] = [];
  incompleteTail = false;
  private readonly lines: LineBatches;

  constructor(
    readonly file: string,
    input: Readable,
    private readonly listLimit: number,
  ) {
    this.lines = new LineBatches(input);
  }

  /** The next callbacks in file order (possibly none, when a chunk held only bad lines); undefined at the end. */
  async next(): Promise<CallbackRecord[] | undefined> {
    let lines: string[] | undefined;
    try {
      lines = await this.lines.next();
    } catch (error) {
      throw new UsageError(`cannot read parity log ${this.file}: ${(error as Error).message}`);
    }
    if (!lines) {
      // A last line with no newline is being written right now: left for later.
      if (this.lines.tail.length > 0) this.incompleteTail = true;
      return undefined;
    }
    const records: CallbackRecord[] = [];
    let line = this.lines.lineNumber;
    for (const text of lines) {
      line++;
      if (text.trim() === '') continue;
      const parsed = parseParityLogLine(text, { file: this.file, line });
      if (parsed.ok) {
        this.records++;
        records.push(parsed.record);
      } else {
        this.unparseable++;
        if (this.unparseableList.length < this.listLimit) this.unparseableList.push({ file: this.file, line, reason: parsed.reason });
      }
    }
    this.lines.lineNumber = line;
    return records;
  }

  async close(): Promise<void> {
    await this.lines.close();
  }
}

/** The tally of several logs, as if read one after the other in the order given. */
export function parityLogRead(files: string[], logs: readonly ParityLogBatches[], listLimit = 100): ParityLogRead {
  const result: ParityLogRead = { files, records: 0, unparseable: 0, unparseableList: [], incompleteTail: [] };
  for (const log of logs) {
    result.records += log.records;
    result.unparseable += log.unparseable;
    result.unparseableList.push(...log.unparseableList);
    if (log.incompleteTail) result.incompleteTail.push(log.file);
  }
  result.unparseableList.splice(listLimit);
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
