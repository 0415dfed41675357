/** The two sides the comparator joins: nginx's record of a callback, and an SQS message. */

/** One parity-log line, parsed (see README, "The parity log"). */
export interface CallbackRecord {
  requestId: string;
  /** When nginx received the callback, epoch milliseconds (`msec` - `request_time`). */
  timeMs: number;
  method: string;
  uri: string;
  status: number;
  /** `$upstream_status`: empty when nginx answered without contacting any upstream. */
  upstreamStatus: string;
  /** True when API Gateway was sent this callback (the log's `apigw` field). */
  sentToGateway: boolean;
  phase: string;
  /** Absent when the parity log carries no bodies. */
  body?: string;
  source: { file: string; line: number };
}

export interface QueueMessage {
  messageId: string;
  body: string;
  /** Message attributes with string values (`mirror-request-id`, `mirror-probe`, …). */
  attributes: Record<string, string>;
  /** SQS `SentTimestamp`, epoch milliseconds. */
  sentTimestampMs: number;
}
