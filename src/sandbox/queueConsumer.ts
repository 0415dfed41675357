/**
 * The sandbox's stand-in for the queue's real consumer: it long-polls, and deletes
 * every message it received, as a production worker does once it has processed one.
 * With it running the queue is "live": a peek would hide messages from it and raise
 * their receive count, so verify and the cutover gates judge from API Gateway's
 * answers (`verify.liveConsumer`, `--mode ack`), never from the queue.
 *
 * It keeps what it consumed (the sandbox's traffic is small) so the demo can say
 * where each callback arrived; bodies stay in memory, never in a log.
 */
import { DeleteMessageBatchCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { QueueMessage } from '../verify/engine/records.js';
import { toQueueMessage } from '../verify/sources/sqsSource.js';

export interface QueueConsumerOptions {
  client: SQSClient;
  queueUrl: string;
  /** Long-poll wait per receive, seconds (default 1: it stops within a second). */
  waitSeconds?: number;
  /** Seconds a received message stays invisible while it is "processed" (default 30). */
  visibilitySeconds?: number;
  /** Concurrent receive loops (default 2). */
  receivers?: number;
}

export interface QueueConsumer {
  /** Every message received and deleted so far, in the order received. */
  readonly consumed: readonly QueueMessage[];
  /** Receive or delete errors so far (the loop goes on after a pause). */
  readonly errors: number;
  stop(): Promise<void>;
}

export function startQueueConsumer(options: QueueConsumerOptions): QueueConsumer {
  const consumed: QueueMessage[] = [];
  const stop = new AbortController();
  let errors = 0;
  const loop = async () => {
    while (!stop.signal.aborted) {
      try {
        const got = await options.client.send(
          new ReceiveMessageCommand({
            QueueUrl: options.queueUrl,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: options.waitSeconds ?? 1,
            VisibilityTimeout: options.visibilitySeconds ?? 30,
            MessageAttributeNames: ['All'],
            MessageSystemAttributeNames: ['SentTimestamp'],
          }),
          { abortSignal: stop.signal },
        );
        const messages = got.Messages ?? [];
        if (messages.length === 0) continue;
        // Deleted even when the stop came meanwhile: a received message is processed, as a worker would.
        await options.client.send(new DeleteMessageBatchCommand({ QueueUrl: options.queueUrl, Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })) }));
        consumed.push(...messages.map(toQueueMessage));
      } catch {
        if (stop.signal.aborted) break;
        errors++;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  };
  const loops = Array.from({ length: options.receivers ?? 2 }, () => loop());
  return {
    consumed,
    get errors() {
      return errors;
    },
    async stop() {
      stop.abort();
      await Promise.all(loops);
    },
  };
}
