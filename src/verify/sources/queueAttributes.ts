/** The SQS adapter for what verify needs to know about the queue itself: counts in flight and the redrive policy. */
import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { QueueCounts } from '../engine/inFlight.js';
import { parseRedrivePolicy, type RedrivePolicy } from '../engine/redrivePolicy.js';

export interface QueueAttributes extends QueueCounts {
  redrivePolicy?: RedrivePolicy;
}

export async function readQueueAttributes(client: SQSClient, queueUrl: string): Promise<QueueAttributes> {
  const out = await client.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed', 'RedrivePolicy'],
    }),
  );
  const a = out.Attributes ?? {};
  const count = (v: string | undefined) => (Number.isFinite(Number(v)) ? Number(v) : 0);
  const redrivePolicy = parseRedrivePolicy(a.RedrivePolicy);
  return {
    visible: count(a.ApproximateNumberOfMessages),
    notVisible: count(a.ApproximateNumberOfMessagesNotVisible),
    delayed: count(a.ApproximateNumberOfMessagesDelayed),
    ...(redrivePolicy ? { redrivePolicy } : {}),
  };
}
