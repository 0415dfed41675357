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
  /** Absent when the parity log carries no bodies, or when nginx did not capture this one (see `bodyCaptured`). */
  body?: string;
  /**
   * False when the log says the body was not captured: nginx spilled it to a temp
   * file (larger than `client_body_buffer_size`) and logged `$request_body` empty.
   * Such a callback is matched on its key, its body never compared.
   */
  bodyCaptured?: boolean;
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
