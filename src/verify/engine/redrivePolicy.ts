/**
 * Pure: may a peek touch this queue? Every ReceiveMessage raises a message's
 * `ApproximateReceiveCount`; with a redrive policy, a message received more than
 * `maxReceiveCount` times moves to the dead-letter queue at its next receive,
 * processed or not (FINDINGS.md; docs.aws.amazon.com/AWSSimpleQueueService/latest/
 * SQSDeveloperGuide/sqs-dead-letter-queues.html). A peek cannot know how many
 * receives a message already has before it receives it, so any receive it adds
 * could be the one that exhausts the budget of a message its consumer has not yet
 * processed: with a redrive policy, peeking needs the user's explicit consent.
 */
export interface RedrivePolicy {
  deadLetterTargetArn: string;
  maxReceiveCount: number;
}

/** The queue's `RedrivePolicy` attribute (a JSON string), read defensively. */
export function parseRedrivePolicy(text: string | undefined): RedrivePolicy | undefined {
  if (!text) return undefined;
  try {
    const value = JSON.parse(text) as { deadLetterTargetArn?: unknown; maxReceiveCount?: unknown };
    const max = Number(value.maxReceiveCount);
    if (!Number.isInteger(max) || max < 1) return undefined;
    return { deadLetterTargetArn: typeof value.deadLetterTargetArn === 'string' ? value.deadLetterTargetArn : '', maxReceiveCount: max };
  } catch {
    return undefined;
  }
}

const allowReceivesFlag = '--allow-redrive-receives';

/**
 * Why a peek must not run, or undefined when it may. `receivesPerMessage` is what
 * the run adds to each message it touches (1 for one shot).
 */
export function peekRefusal(policy: RedrivePolicy | undefined, receivesPerMessage: number, allowed: boolean): string | undefined {
  if (!policy || allowed) return undefined;
  return (
    `the queue has a redrive policy (maxReceiveCount ${policy.maxReceiveCount}, dead-letter queue ${policy.deadLetterTargetArn || 'unnamed'}): ` +
    `a peek adds ${receivesPerMessage} receive(s) to every message it touches, and a message received more than ${policy.maxReceiveCount} times ` +
    `moves to the dead-letter queue unprocessed. Use --mode ack (never touches the queue), or pass ${allowReceivesFlag} to peek anyway`
  );
}
