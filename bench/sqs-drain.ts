/**
 * SQS drain: messages per second that `mirror verify --mode peek` receives (its
 * reader, readQueue, with its default receivers), against a bare AWS SDK v3
 * ReceiveMessage loop with the same concurrency and the same request shape, each
 * on a freshly filled, identical fauxqs queue. Not a test: it prints figures and
 * the ratio to the bare loop measured in the same run.
 *
 *   npx tsx bench/sqs-drain.ts [--messages 20000] [--receivers 4] [--rounds 3]
 *
 * Bodies are ~414-byte Bizppurio callbacks with a request-id attribute. The rate
 * is taken from the start to the moment the last message arrives; the tail a
 * reader spends proving the queue empty (its empty long polls) is printed apart.
 * Rounds alternate which reader goes first; the median round is reported.
 */
import { parseArgs } from 'node:util';
import { ReceiveMessageCommand, SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { startFauxqs, type Fauxqs } from '../src/sqs/fauxqs.js';
import { readQueue } from '../src/verify/sources/sqsSource.js';
import { requestIdAttribute } from '../src/wire/contract.js';
import { benchCallbackBody, benchRequestId } from './support/benchCallbacks.js';

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '20000' },
    receivers: { type: 'string', default: '4' },
    rounds: { type: 'string', default: '3' },
  },
});
const total = Number(values.messages);
const receivers = Number(values.receivers);
const rounds = Number(values.rounds);
const waitSeconds = 2;
const visibilitySeconds = 300;

interface Drain {
  lastMessageMs: number;
  returnedMs: number;
  received: number;
}

async function fill(fauxqs: Fauxqs, name: string): Promise<string> {
  const queueUrl = await fauxqs.createQueue(name);
  const sqs = fauxqs.client();
  try {
    const batches = Array.from({ length: Math.ceil(total / 10) }, (_, b) => b * 10);
    for (let start = 0; start < batches.length; start += 16) {
      await Promise.all(
        batches.slice(start, start + 16).map(async (first) => {
          const out = await sqs.send(
            new SendMessageBatchCommand({
              QueueUrl: queueUrl,
              Entries: Array.from({ length: Math.min(10, total - first) }, (_, k) => first + k).map((i) => ({
                Id: String(i),
                MessageBody: benchCallbackBody(i),
                MessageAttributes: { [requestIdAttribute]: { DataType: 'String', StringValue: benchRequestId(i) } },
              })),
            }),
          );
          if (out.Failed?.length) throw new Error(`fill ${name}: ${out.Failed.length} messages refused: ${out.Failed[0]?.Message}`);
        }),
      );
    }
  } finally {
    sqs.destroy();
  }
  return queueUrl;
}

/** verify's peek reader, exactly as runVerify calls it (endpoint, region, default waits). */
async function drainWithVerifyReader(fauxqs: Fauxqs, queueUrl: string): Promise<Drain> {
  const started = performance.now();
  let lastMessageMs = 0;
  let received = 0;
  await readQueue({ queueUrl, region: fauxqs.region, endpoint: fauxqs.endpoint, mode: 'peek', receivers, visibilitySeconds, waitSeconds }, () => {
    received++;
    if (received === total) lastMessageMs = performance.now() - started;
  });
  return { lastMessageMs, returnedMs: performance.now() - started, received };
}

/** The floor: the same requests from the bare SDK, stopping as soon as all have arrived. */
async function drainWithBareSdk(fauxqs: Fauxqs, queueUrl: string): Promise<Drain> {
  const client = new SQSClient({ region: fauxqs.region, endpoint: fauxqs.endpoint, retryMode: 'standard', maxAttempts: 5 });
  const started = performance.now();
  let received = 0;
  let lastMessageMs = 0;
  try {
    await Promise.all(
      Array.from({ length: receivers }, async () => {
        while (received < total) {
          const out = await client.send(
            new ReceiveMessageCommand({
              QueueUrl: queueUrl,
              MaxNumberOfMessages: 10,
              WaitTimeSeconds: waitSeconds,
              VisibilityTimeout: visibilitySeconds,
              MessageAttributeNames: ['All'],
              MessageSystemAttributeNames: ['SentTimestamp'],
            }),
          );
          received += out.Messages?.length ?? 0;
          if (received >= total && lastMessageMs === 0) lastMessageMs = performance.now() - started;
        }
      }),
    );
  } finally {
    client.destroy();
  }
  return { lastMessageMs, returnedMs: performance.now() - started, received };
}

async function main(): Promise<void> {
  // readQueue takes credentials from the default chain, as `mirror verify` does.
  process.env.AWS_ACCESS_KEY_ID ??= 'fauxqs';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'fauxqs';
  const fauxqs = await startFauxqs();
  const verify: Drain[] = [];
  const bare: Drain[] = [];
  try {
    console.log(`sqs drain: ${total} messages of ~${Buffer.byteLength(benchCallbackBody(1))} bytes per queue, ${receivers} receivers, fauxqs ${fauxqs.endpoint}, ${rounds} rounds; node ${process.version}`);
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? (['bare', 'verify'] as const) : (['verify', 'bare'] as const);
      for (const who of order) {
        const queueUrl = await fill(fauxqs, `drain-${who}-${round}`);
        const drain = who === 'bare' ? await drainWithBareSdk(fauxqs, queueUrl) : await drainWithVerifyReader(fauxqs, queueUrl);
        if (drain.received !== total) throw new Error(`${who} round ${round}: received ${drain.received} of ${total}`);
        (who === 'bare' ? bare : verify).push(drain);
        console.log(
          `  round ${round + 1} ${who.padEnd(6)} ${Math.round(total / (drain.lastMessageMs / 1000)).toLocaleString('en-US').padStart(7)} msg/s  ` +
            `(all ${total} in ${(drain.lastMessageMs / 1000).toFixed(2)} s; returned after ${(drain.returnedMs / 1000).toFixed(2)} s)`,
        );
      }
    }
  } finally {
    await fauxqs.stop();
  }
  const median = (drains: Drain[]) => {
    const rates = drains.map((d) => total / (d.lastMessageMs / 1000)).sort((a, b) => a - b);
    return rates[Math.floor(rates.length / 2)]!;
  };
  const bareRate = median(bare);
  const verifyRate = median(verify);
  console.log(`  bare SDK loop        ${Math.round(bareRate).toLocaleString('en-US').padStart(7)} msg/s (median)`);
  console.log(`  verify peek reader   ${Math.round(verifyRate).toLocaleString('en-US').padStart(7)} msg/s (median)`);
  console.log(`  verify / bare: ${(verifyRate / bareRate).toFixed(2)}x (aim: 0.9x or better)`);
}

await main();
