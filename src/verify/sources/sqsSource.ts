/**
 * The SQS side of `mirror verify`, through the AWS SDK v3: the default credential
 * chain, the region from the queue URL, an endpoint override for emulators, the
 * SDK's retry modes, several concurrent long-polling receivers.
 *
 * `peek` receives with a visibility timeout that covers the run and never deletes:
 * the messages come back to their real consumers afterwards. `consume` appends each
 * message to an owner-only archive, flushed to disk, before deleting it.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { DeleteMessageBatchCommand, ReceiveMessageCommand, SQSClient, type Message } from '@aws-sdk/client-sqs';
import { MissingDependencyError } from '../../errors.js';
import type { QueueMessage } from '../engine/records.js';
import type { MirrorConfig } from '../../config/types.js';

export interface SqsReadOptions {
  queueUrl: string;
  region?: string;
  endpoint?: string;
  /** Static credentials (an emulator's, from config `sandbox.sqsCredentials`); otherwise the default chain. */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  mode: 'peek' | 'consume';
  /** Archive file for consume mode (appended, 0600). */
  archive?: string;
  receivers?: number;
  /** Seconds each peeked message stays invisible to its real consumers. */
  visibilitySeconds?: number;
  /** Stop after this many consecutive empty receives per receiver. */
  emptyPolls?: number;
  waitSeconds?: number;
  maxMessages?: number;
  retryMode?: 'standard' | 'adaptive';
  client?: SQSClient;
  /** Watch mode: keep receiving until this aborts, whatever the empty polls. */
  signal?: AbortSignal;
  onError?: (kind: string) => void;
}

export interface SqsRead {
  received: number;
  deleted: number;
  errors: Record<string, number>;
  visibilitySeconds: number;
  mode: 'peek' | 'consume';
}

/**
 * The one way this project makes an SQS client: the default credential chain, the
 * queue's region (the API's when the queue URL names none, as an emulator's may not),
 * an endpoint override for emulators, the SDK's retry modes.
 */
export function createSqsClient(options: { region?: string; endpoint?: string; retryMode?: 'standard' | 'adaptive'; credentials?: { accessKeyId: string; secretAccessKey: string } }): SQSClient {
  return new SQSClient({
    ...(options.region ? { region: options.region } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    retryMode: options.retryMode ?? 'standard',
    maxAttempts: 5,
  });
}

/** An SQS client for the config's queue. */
export function sqsClientFor(config: Pick<MirrorConfig, 'sqs' | 'apiGateway'> & Partial<Pick<MirrorConfig, 'sandbox'>>): SQSClient {
  return createSqsClient({
    region: config.sqs.queue.region ?? config.apiGateway.region,
    ...(config.sqs.endpoint ? { endpoint: config.sqs.endpoint } : {}),
    ...(config.sandbox?.sqsCredentials ? { credentials: config.sandbox.sqsCredentials } : {}),
  });
}

export async function readQueue(options: SqsReadOptions, onMessage: (message: QueueMessage) => void): Promise<SqsRead> {
  const client =
    options.client ??
    createSqsClient({
      ...(options.region ? { region: options.region } : {}),
      ...(options.endpoint ? { endpoint: options.endpoint } : {}),
      ...(options.retryMode ? { retryMode: options.retryMode } : {}),
      ...(options.credentials ? { credentials: options.credentials } : {}),
    });
  const visibilitySeconds = options.visibilitySeconds ?? 300;
  const result: SqsRead = { received: 0, deleted: 0, errors: {}, visibilitySeconds, mode: options.mode };
  let archive: FileHandle | undefined;
  if (options.mode === 'consume') {
    if (!options.archive) throw new Error('consume mode needs an archive file');
    archive = await open(options.archive, 'a+', 0o600);
    await endTornLine(archive);
  }
  const seen = new Map<string, number>();
  let reached = false;
  const maxMessages = options.maxMessages ?? Number.POSITIVE_INFINITY;
  try {
    await Promise.all(
      Array.from({ length: options.receivers ?? 4 }, async () => {
        let empty = 0;
        const more = () => (options.signal ? !options.signal.aborted : empty < (options.emptyPolls ?? 2) && result.received < maxMessages);
        while (more()) {
          let messages: Message[];
          try {
            const out = await client.send(
              new ReceiveMessageCommand({
                QueueUrl: options.queueUrl,
                MaxNumberOfMessages: 10,
                WaitTimeSeconds: options.waitSeconds ?? 2,
                VisibilityTimeout: options.mode === 'peek' ? visibilitySeconds : 60,
                MessageAttributeNames: ['All'],
                MessageSystemAttributeNames: ['SentTimestamp'],
              }),
              options.signal ? { abortSignal: options.signal } : {},
            );
            messages = out.Messages ?? [];
            reached = true;
          } catch (error) {
            if (options.signal?.aborted) break;
            // Node's network errors say what happened in `code` (ECONNREFUSED); the SDK's in `name`.
            const e = error as Error & { code?: string };
            const name = (typeof e.code === 'string' && e.code) || e.name || 'Error';
            result.errors[name] = (result.errors[name] ?? 0) + 1;
            options.onError?.(name);
            // Unreachable at the start is a set-up problem (exit 3). Once SQS has answered,
            // an outage is counted and waited out: a brief one must not end a long watch.
            if (!reached && /CredentialsProviderError|ENOTFOUND|ECONNREFUSED/.test(`${name} ${e.message}`)) {
              throw new MissingDependencyError(`cannot reach SQS at ${options.endpoint ?? options.queueUrl}: ${(error as Error).message}`, [
                'check AWS credentials (the default provider chain) and sqs.endpoint for an emulator',
              ]);
            }
            empty++;
            continue;
          }
          if (messages.length === 0) {
            empty++;
            continue;
          }
          empty = 0;
          // A peeked message comes back once its visibility ends: the same copy, not a duplicate.
          const now = Date.now();
          // Insertion order is time order: stop at the first entry still young.
          for (const [id, at] of seen) {
            if (at >= now - visibilitySeconds * 2000) break;
            seen.delete(id);
          }
          const fresh = messages.filter((m) => !seen.has(m.MessageId ?? ''));
          for (const m of fresh) seen.set(m.MessageId ?? '', now);
          const converted = fresh.map(toQueueMessage);
          if (archive) {
            await archive.appendFile(converted.map((m) => `${JSON.stringify(m)}\n`).join(''));
            await archive.sync();
            await client.send(new DeleteMessageBatchCommand({ QueueUrl: options.queueUrl, Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })) }));
            result.deleted += messages.length;
          }
          for (const m of converted) {
            result.received++;
            onMessage(m);
          }
        }
      }),
    );
  } finally {
    await archive?.close();
    if (!options.client) client.destroy();
  }
  return result;
}

/**
 * A run killed inside an append can leave the archive ending in a torn line. Our
 * first record must not be glued onto it, or a message we then delete would sit
 * in an unreadable line: end the torn line first, so it stands alone.
 */
async function endTornLine(archive: FileHandle): Promise<void> {
  const { size } = await archive.stat();
  if (size === 0) return;
  const last = Buffer.alloc(1);
  await archive.read(last, 0, 1, size - 1);
  if (last[0] !== 0x0a) await archive.appendFile('\n');
}

export function toQueueMessage(m: Message): QueueMessage {
  return {
    messageId: m.MessageId ?? '',
    body: m.Body ?? '',
    attributes: Object.fromEntries(Object.entries(m.MessageAttributes ?? {}).flatMap(([k, v]) => (v.StringValue !== undefined ? [[k, v.StringValue]] : []))),
    sentTimestampMs: Number(m.Attributes?.SentTimestamp ?? 0),
  };
}
