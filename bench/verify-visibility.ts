/**
 * Peek visibility: what a shorter visibility timeout with re-receive buys and costs.
 * For each visibility V, on a freshly filled fauxqs queue: how long one peek takes
 * to see every message, how many receives it added per message (SQS counts each
 * toward a redrive policy's maxReceiveCount), and what a second peek started right
 * after the first, and one V seconds later, can see. Not a test: it prints figures.
 *
 *   npx tsx bench/verify-visibility.ts [--messages 3000] [--visibility 300,30,5,2,1]
 */
import { parseArgs } from 'node:util';
import { ReceiveMessageCommand, SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { startFauxqs } from '../src/sqs/fauxqs.js';
import { readQueue } from '../src/verify/sources/sqsSource.js';
import { requestIdAttribute } from '../src/wire/contract.js';
import { benchCallbackBody, benchRequestId } from './support/benchCallbacks.js';

const { values } = parseArgs({ options: { messages: { type: 'string', default: '3000' }, visibility: { type: 'string', default: '300,30,5,2,1' } } });
const total = Number(values.messages);
const visibilities = values.visibility.split(',').map(Number);

async function fill(client: SQSClient, queueUrl: string): Promise<void> {
  for (let i = 0; i < total; i += 10) {
    const entries = Array.from({ length: Math.min(10, total - i) }, (_, k) => ({
      Id: String(k), MessageBody: benchCallbackBody(i + k), MessageAttributes: { [requestIdAttribute]: { DataType: 'String', StringValue: benchRequestId(i + k) } },
    }));
    await client.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }));
  }
}

/** Receives (and so counts) every message once more with a long visibility; returns the sum of ApproximateReceiveCount before this receive. */
async function receiveCounts(client: SQSClient, queueUrl: string): Promise<{ messages: number; receives: number }> {
  let messages = 0, receives = 0, empty = 0;
  while (empty < 2) {
    const out = await client.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 3600, WaitTimeSeconds: 1, MessageSystemAttributeNames: ['ApproximateReceiveCount'] }));
    const got = out.Messages ?? [];
    if (got.length === 0) { empty++; continue; }
    empty = 0;
    for (const m of got) { messages++; receives += Number(m.Attributes?.ApproximateReceiveCount ?? 1) - 1; }
  }
  return { messages, receives };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const fauxqs = await startFauxqs({ region: 'ap-northeast-2' });
try {
  const client = fauxqs.client();
  console.log(`messages ${total}; one peek = readQueue with 4 receivers (verify's default), stopping after 2 empty long polls`);
  console.log('visibility_s  peek_s  seen  second_peek_now  second_peek_after_V  receives_added_per_message');
  for (const v of visibilities) {
    const queueUrl = await fauxqs.createQueue(`vis-${v}-${Date.now()}`);
    await fill(client, queueUrl);
    const started = Date.now();
    // Stops once every message was seen: with V shorter than the run, messages come back
    // before the queue ever looks empty, and a peek that waits for empty polls never ends.
    const first = await readQueue({ queueUrl, client, mode: 'peek', visibilitySeconds: v, waitSeconds: 1, maxMessages: total }, () => undefined);
    const peekS = (Date.now() - started) / 1000;
    // Bounded at 3 x V + 5 s: with V shorter than a run, a peek never sees the queue empty.
    const now = await readQueue({ queueUrl, client, mode: 'peek', visibilitySeconds: v, waitSeconds: 1, ...(v <= 30 ? { signal: AbortSignal.timeout(3 * v * 1000 + 5000) } : {}) }, () => undefined);
    let later = NaN;
    if (v <= 30) {
      await sleep(v * 1000 + 500);
      later = (await readQueue({ queueUrl, client, mode: 'peek', visibilitySeconds: v, waitSeconds: 1, maxMessages: total }, () => undefined)).received;
      await sleep(v * 1000 + 500);
    }
    // Count receives only when everything is visible again (short V); a 300 s V is counted by the first peek's figure.
    const counted = v <= 30 ? await receiveCounts(client, queueUrl) : undefined;
    console.log(
      `${String(v).padStart(12)}  ${peekS.toFixed(1).padStart(6)}  ${String(first.received).padStart(4)}  ${String(now.received).padStart(15)}  ${String(Number.isNaN(later) ? 'n/a (after 300 s)' : later).padStart(19)}  ${counted ? `${(counted.receives / counted.messages).toFixed(2)} over the three peeks (${counted.receives} receives, ${counted.messages} messages)` : '1 per peek'}`,
    );
  }
  client.destroy();
} finally {
  await fauxqs.stop();
}
