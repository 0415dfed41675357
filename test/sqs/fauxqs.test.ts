import { afterEach, describe, expect, it } from 'vitest';
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { startFauxqs, type Fauxqs } from '../../src/sqs/fauxqs.js';

let running: Fauxqs | undefined;
afterEach(async () => {
  await running?.stop();
  running = undefined;
});

function reachable(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

describe('fauxqs in its own process', () => {
  it('listens on 127.0.0.1 only, creates a queue, and round-trips a message with an attribute', async () => {
    running = await startFauxqs();
    expect(await reachable('127.0.0.1', running.port)).toBe(true);
    // 127.0.0.2 is this host too (all of 127/8 is loopback on Linux): a server bound to
    // 0.0.0.0 would answer there, one bound to 127.0.0.1 does not. Always checkable.
    expect(await reachable('127.0.0.2', running.port)).toBe(false);
    const other = Object.values(networkInterfaces()).flat().find((i) => i && i.family === 'IPv4' && !i.internal);
    if (other) expect(await reachable(other.address, running.port)).toBe(false);

    const queueUrl = await running.createQueue('kakao-at-result');
    expect(queueUrl).toMatch(/\/kakao-at-result$/);
    const sqs = running.client();
    try {
      const body = '{"TO_NAME":"홍길동 🎉","x":"a+b&c=%20"}';
      await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body, MessageAttributes: { 'mirror-request-id': { DataType: 'String', StringValue: 'f'.repeat(32) } } }));
      const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MessageAttributeNames: ['All'], MessageSystemAttributeNames: ['SentTimestamp'], WaitTimeSeconds: 1 }));
      expect(got.Messages?.[0]?.Body).toBe(body);
      expect(got.Messages?.[0]?.MessageAttributes?.['mirror-request-id']?.StringValue).toBe('f'.repeat(32));
      expect(Number(got.Messages?.[0]?.Attributes?.SentTimestamp)).toBeGreaterThan(0);
      // A lone surrogate is not a character: real SQS refuses it, and so does the emulator.
      await expect(sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'broken \uD83D here' }))).rejects.toMatchObject({ name: expect.stringMatching(/InvalidMessageContents/) });
    } finally {
      sqs.destroy();
    }
  });
});
