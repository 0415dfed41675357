/**
 * Reads the answers `verify --mode ack` judges from: the mirror location's answers
 * log, `mirror ship`'s ack logs, and, for lines of the `primary` phase, the parity
 * log itself (its upstream is API Gateway). Missing files are named, unreadable
 * lines counted (file and line, never the text); nothing here is fatal but a file
 * the user named that does not exist.
 */
import { createReadStream } from 'node:fs';
import { access } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import { UsageError } from '../../errors.js';
import { LineBatches } from './lineBatches.js';
import { parseAnswerLine, type GatewayAnswer } from '../engine/gatewayAnswers.js';

export interface AnswersRead {
  files: string[];
  /** Default files that did not exist (nothing was logged there yet, or the phase writes none). */
  absent: string[];
  answers: number;
  unreadable: number;
  unreadableList: { file: string; line: number; reason: string }[];
}

async function* lines(file: string): AsyncGenerator<string[]> {
  const stream = createReadStream(file);
  const batches = new LineBatches(file.endsWith('.gz') ? stream.pipe(createGunzip()) : stream);
  try {
    for (let batch = await batches.next(); batch; batch = await batches.next()) yield batch;
  } finally {
    await batches.close();
  }
}

export async function readAnswers(
  sources: { files: readonly string[]; required: boolean; kind: 'answers' | 'parity' }[],
  onAnswer: (answer: GatewayAnswer) => void,
): Promise<AnswersRead> {
  const read: AnswersRead = { files: [], absent: [], answers: 0, unreadable: 0, unreadableList: [] };
  for (const source of sources) {
    for (const file of source.files) {
      const exists = await access(file).then(() => true, () => false);
      if (!exists) {
        if (source.required) throw new UsageError(`--ack-log ${file}: no such file; expected an ack log that mirror ship or nginx wrote`);
        read.absent.push(file);
        continue;
      }
      read.files.push(file);
      let n = 0;
      for await (const batch of lines(file)) {
        for (const line of batch) {
          n++;
          if (line.trim() === '') continue;
          if (source.kind === 'parity' && !line.includes('"phase":"primary"')) continue;
          const parsed = parseAnswerLine(line, source.kind);
          if (parsed.ok) {
            read.answers++;
            onAnswer(parsed.answer);
          } else {
            read.unreadable++;
            if (read.unreadableList.length < 100) read.unreadableList.push({ file, line: n, reason: parsed.reason });
          }
        }
      }
    }
  }
  return read;
}
