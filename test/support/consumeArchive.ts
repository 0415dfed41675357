/**
 * Helpers for the consume-mode durability test: read a consume archive as the
 * `--sqs-archive` replay does (one JSON QueueMessage per line), tolerating the torn
 * fragments a SIGKILL in the middle of an append can leave, and look inside a
 * fauxqs queue (ready, delayed and in-flight messages) without changing it.
 */
import { readFile } from 'node:fs/promises';
import type { QueueMessage } from '../../src/verify/engine/records.js';

export interface ArchiveRead {
  messages: QueueMessage[];
  /** Lines that are not a whole archived message: torn by a kill mid-append. */
  tornFragments: number;
}

export async function readConsumeArchive(file: string): Promise<ArchiveRead> {
  const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return '';
    throw error;
  });
  const messages: QueueMessage[] = [];
  let tornFragments = 0;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    try {
      const m = JSON.parse(line) as QueueMessage;
      if (typeof m.messageId === 'string' && typeof m.body === 'string' && typeof m.attributes === 'object') messages.push(m);
      else tornFragments++;
    } catch {
      tornFragments++;
    }
  }
  return { messages, tornFragments };
}

interface InspectedMessage {
  messageId: string;
  body: string;
  messageAttributes: Record<string, { DataType: string; StringValue?: string }>;
}

export interface QueueContents {
  /** Every message still in the queue: ready, delayed, or received and not yet deleted. */
  messages: InspectedMessage[];
  inflight: { messageId: string; receiptHandle: string }[];
}

/** fauxqs's non-destructive inspection endpoint: it changes no visibility. */
export async function inspectQueue(endpoint: string, queueName: string): Promise<QueueContents> {
  const response = await fetch(`${endpoint}/_fauxqs/queues/${encodeURIComponent(queueName)}`);
  if (!response.ok) throw new Error(`fauxqs inspection of ${queueName}: HTTP ${response.status}`);
  const state = (await response.json()) as {
    messages: { ready: InspectedMessage[]; delayed: InspectedMessage[]; inflight: { message: InspectedMessage; receiptHandle: string }[] };
  };
  const { ready, delayed, inflight } = state.messages;
  return {
    messages: [...ready, ...delayed, ...inflight.map((e) => e.message)],
    inflight: inflight.map((e) => ({ messageId: e.message.messageId, receiptHandle: e.receiptHandle })),
  };
}

