/**
 * The SQS side of the stand-in's integration request: API Gateway sends
 * `POST /{accountId}/{queueName}` with a form body in the SQS query protocol. The
 * emulator (fauxqs) speaks only the JSON protocol, so this module decodes the form
 * and enforces what real SQS enforces and fauxqs does not. Pure: no I/O.
 *
 * Error codes and statuses come from the SQS model (the `awsQueryError` traits in
 * @aws-sdk/client-sqs) and the API reference; messages are real SQS responses where
 * one was published (each is linked), otherwise this module's own wording.
 */
import { createHash } from 'node:crypto';

export interface MessageAttributeValue {
  dataType: string;
  stringValue?: string;
  binaryValue?: Buffer;
}

export interface SendMessageInput {
  queueAccountId: string;
  queueName: string;
  messageBody: string;
  messageAttributes: Record<string, MessageAttributeValue>;
  delaySeconds?: number;
  messageGroupId?: string;
  messageDeduplicationId?: string;
}

export interface SqsError {
  status: number;
  code: string;
  message: string;
}

export type SqsQueryResult = { ok: true; input: SendMessageInput } | ({ ok: false } & SqsError);

/**
 * Body plus every attribute's name, type and value. 1 MiB since August 2025 (it was
 * 256 KiB): docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessage.html
 * and API_MessageAttributeValue.html. A queue's own MaximumMessageSize may be lower;
 * that is the queue's business, not the protocol's.
 */
const MAX_MESSAGE_BYTES = 1_048_576;
/** docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-message-metadata.html */
const MAX_MESSAGE_ATTRIBUTES = 10;
const MAX_ATTRIBUTE_NAME_LENGTH = 256;
const MAX_DATA_TYPE_LENGTH = 256;
const MAX_DELAY_SECONDS = 900;

/**
 * The characters a message body (and a String attribute value) may hold, from
 * API_SendMessage.html: `#x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD |
 * #x10000 to #x10FFFF`. Older revisions of that page said SQS replaces other
 * characters with U+FFFD; the current one says it rejects the message with
 * InvalidMessageContents (github.com/async-aws/aws/pull/1950 shows the change).
 */
const OUTSIDE_ALLOWED_CHARACTERS = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

const fail = (status: number, code: string, message: string): SqsQueryResult => ({ ok: false, status, code, message });
const invalidParameter = (message: string) => fail(400, 'InvalidParameterValue', message);

/**
 * SQS answers a POST that names no operation with a bare `<UnknownOperationException/>`
 * and 404: without a form Content-Type it reads the body as the JSON protocol, finds
 * no X-Amz-Target, and gives up; with a form but no `Action` it does the same.
 * LocalStack's query API reproduces this "validated against AWS"
 * (github.com/localstack/localstack, localstack/services/sqs/query_api.py), and the
 * aws-sdk v2 query parser special-cases that body (lib/protocol/query.js).
 */
const unknownOperation = fail(404, 'UnknownOperationException', '');

export function decodeSendMessage(request: { path: string; contentType: string | undefined; body: Buffer | string }): SqsQueryResult {
  const mediaType = (request.contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (mediaType !== 'application/x-www-form-urlencoded') return unknownOperation;
  // WHATWG form decoding: `+` is a space, %XX are UTF-8 bytes, bad UTF-8 becomes U+FFFD.
  const form = new URLSearchParams(typeof request.body === 'string' ? request.body : request.body.toString('utf8'));

  const action = form.get('Action');
  if (!action) return unknownOperation;
  // docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/CommonErrors.html (400);
  // message as SQS words it (github.com/mirkokiefer/aws-lib/issues/8, LocalStack's query_api.py).
  if (action !== 'SendMessage') return fail(400, 'InvalidAction', `The action ${action} is not valid for this endpoint.`);

  const queue = queueAddress(request.path, form.get('QueueUrl'));
  if (!('queueName' in queue)) return queue;

  const messageBody = form.get('MessageBody');
  // Code: CommonErrors.html; message: elasticmq's Limits.scala, which copies SQS.
  if (!messageBody) return fail(400, 'MissingParameter', 'The request must contain the parameter MessageBody.');
  if (OUTSIDE_ALLOWED_CHARACTERS.test(messageBody)) {
    return fail(400, 'InvalidMessageContents', 'Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF');
  }

  const attributes = decodeMessageAttributes(form);
  if (!('values' in attributes)) return attributes;
  const size = Buffer.byteLength(messageBody) + attributes.bytes;
  if (size > MAX_MESSAGE_BYTES) {
    // SQS's wording, as quoted in SDK errors from the 262144-byte days ("One or more
    // parameters are invalid. Reason: Message must be shorter than 262144 bytes.").
    return invalidParameter(`One or more parameters are invalid. Reason: Message must be shorter than ${MAX_MESSAGE_BYTES} bytes.`);
  }

  const input: SendMessageInput = { ...queue, messageBody, messageAttributes: attributes.values };
  const delay = form.get('DelaySeconds');
  if (delay !== null) {
    if (!/^\d+$/.test(delay) || Number(delay) > MAX_DELAY_SECONDS) {
      return invalidParameter(`Value ${delay} for parameter DelaySeconds is invalid. Reason: must be between 0 and ${MAX_DELAY_SECONDS}, if provided.`);
    }
    input.delaySeconds = Number(delay);
  }
  // FIFO-only parameters: passed through for the emulator to judge against the queue type.
  const groupId = form.get('MessageGroupId');
  if (groupId !== null) input.messageGroupId = groupId;
  const deduplicationId = form.get('MessageDeduplicationId');
  if (deduplicationId !== null) input.messageDeduplicationId = deduplicationId;
  return { ok: true, input };
}

/**
 * The queue comes from the request path (API Gateway's path override
 * `{account}/{queue}`), or from a `QueueUrl` parameter, which wins: LocalStack's
 * query_api.py says so and says the behaviour was validated against AWS.
 */
function queueAddress(path: string, queueUrl: string | null): { queueAccountId: string; queueName: string } | SqsQueryResult {
  let address = path;
  if (queueUrl !== null) {
    try {
      address = new URL(queueUrl).pathname;
    } catch {
      address = queueUrl;
    }
  }
  if ((address === '/' || address === '') && queueUrl === null) {
    return fail(400, 'MissingParameter', 'The request must contain the parameter QueueUrl.');
  }
  const match = /^\/(\d{12})\/([^/]+)\/?$/.exec(address);
  // InvalidAddress is 404 in the SQS model (awsQueryError `InvalidAddress`, 404); the
  // message is SQS's, as boto3 users quote it ("The address ... is not valid for this endpoint.").
  if (!match) return fail(404, 'InvalidAddress', `The address ${queueUrl ?? path} is not valid for this endpoint.`);
  const [, queueAccountId, queueName] = match as unknown as [string, string, string];
  // Queue names: 1-80 of A-Za-z0-9, hyphen, underscore; FIFO names end in .fifo, which counts.
  if (queueName.length > 80 || !/^[A-Za-z0-9_-]+(\.fifo)?$/.test(queueName)) {
    return fail(400, 'AWS.SimpleQueueService.NonExistentQueue', 'The specified queue does not exist for this wsdl version.');
  }
  return { queueAccountId, queueName };
}

/**
 * `MessageAttribute.N.Name` (or `MessageAttributes.N.Name`), `MessageAttribute.N.Value.DataType`,
 * `MessageAttribute.N.Value.StringValue` / `.BinaryValue` (base64), N from 1
 * (API_SendMessage.html, "MessageAttribute.N"; github.com/aws/aws-sdk-php/issues/694
 * shows what SQS answers to another spelling). Rules: sqs-message-metadata.html,
 * "Message attribute components".
 */
function decodeMessageAttributes(form: URLSearchParams): { values: Record<string, MessageAttributeValue>; bytes: number } | SqsQueryResult {
  const entries = new Map<number, Partial<Record<'Name' | 'DataType' | 'StringValue' | 'BinaryValue', string>>>();
  for (const [key, value] of form) {
    // `MessageAttributes.N.…` (plural) is stored too: recorded against AWS in LocalStack's
    // tests/aws/services/apigateway/test_apigateway_sqs.py, test_sqs_aws_integration_with_message_attribute.
    const match = /^MessageAttributes?\.([1-9]\d*)\.(Name|Value\.DataType|Value\.StringValue|Value\.BinaryValue)$/.exec(key);
    if (!match) continue;
    const index = Number(match[1]);
    const field = match[2]!.replace('Value.', '') as 'Name' | 'DataType' | 'StringValue' | 'BinaryValue';
    const entry = entries.get(index) ?? {};
    entry[field] ??= value;
    entries.set(index, entry);
  }
  if (entries.size > MAX_MESSAGE_ATTRIBUTES) {
    // elasticmq's Limits.scala and other emulators copy this SQS message.
    return invalidParameter(`Number of message attributes [${entries.size}] exceeds the allowed maximum [${MAX_MESSAGE_ATTRIBUTES}].`);
  }

  const values: Record<string, MessageAttributeValue> = {};
  let bytes = 0;
  for (const [, entry] of [...entries].sort(([a], [b]) => a - b)) {
    const name = entry.Name;
    // SQS's own answer when the name is missing (github.com/aws/aws-sdk-php/issues/694).
    if (!name) return invalidParameter('The request must contain non-empty message attribute name.');
    const nameProblem = attributeNameProblem(name);
    if (nameProblem) return invalidParameter(`Message (user) attribute name '${name}' is invalid: ${nameProblem}.`);
    if (Object.hasOwn(values, name)) return invalidParameter(`Message (user) attribute name '${name}' is used more than once.`);

    const dataType = entry.DataType;
    // SQS's own answer (github.com/aws/aws-sdk-java/issues/1692).
    if (!dataType) return invalidParameter(`The message attribute '${name}' must contain non-empty message attribute type.`);
    // SQS's own answer to `string` (github.com/boto/boto3/pull/362). A custom label
    // follows a period: `String.json`, `Number.float`, `Binary.gif`.
    const baseType = /^(String|Number|Binary)(\..*)?$/.exec(dataType)?.[1];
    if (!baseType || OUTSIDE_ALLOWED_CHARACTERS.test(dataType)) {
      return invalidParameter(`The message attribute '${name}' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String.`);
    }
    if (dataType.length > MAX_DATA_TYPE_LENGTH) return invalidParameter('Message (user) attribute types must be shorter than 256 Bytes');

    const { StringValue: stringValue, BinaryValue: binaryValue } = entry;
    if (stringValue === undefined && binaryValue === undefined) {
      return invalidParameter(`The message attribute '${name}' must contain non-empty message attribute value.`);
    }
    if (stringValue !== undefined && binaryValue !== undefined) return invalidParameter(`Message (user) attribute '${name}' must have a single value.`);
    const field = baseType === 'Binary' ? 'Binary' : 'String';
    if ((field === 'Binary') !== (binaryValue !== undefined)) {
      return invalidParameter(`Message (user) attribute '${name}' with type '${baseType}' must use field '${field}'.`);
    }
    // The exact SQS text (github.com/softwaremill/elasticmq/issues/373): an empty value
    // is rejected, which fauxqs does not do.
    const empty = () => invalidParameter(`Message (user) attribute '${name}' must contain a non-empty value of type '${baseType}'.`);
    if (field === 'String') {
      const value = stringValue!;
      if (value === '') return empty();
      // String values have the body's character rules; SQS reports them as InvalidParameterValue
      // (LocalStack's provider: "AWS throws a different exception here").
      if (OUTSIDE_ALLOWED_CHARACTERS.test(value)) return invalidParameter(`Message (user) attribute '${name}' contains characters outside the allowed set.`);
      // Emulators quote this text from a live boto3 call against SQS.
      if (baseType === 'Number' && !/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(value)) {
        return invalidParameter(`Can't cast the value of message (user) attribute '${name}' to a number.`);
      }
      values[name] = { dataType, stringValue: value };
      bytes += Buffer.byteLength(value);
    } else {
      const value = binaryValue!;
      if (value === '') return empty();
      if (value.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(value)) {
        return invalidParameter(`Message (user) attribute '${name}' has a BinaryValue that is not valid base64.`);
      }
      const decoded = Buffer.from(value, 'base64');
      values[name] = { dataType, binaryValue: decoded };
      bytes += decoded.length;
    }
    bytes += Buffer.byteLength(name) + Buffer.byteLength(dataType);
  }
  return { values, bytes };
}

/** sqs-message-metadata.html, "Message attribute components": the name rules. */
function attributeNameProblem(name: string): string | undefined {
  if (name.length > MAX_ATTRIBUTE_NAME_LENGTH) return `longer than ${MAX_ATTRIBUTE_NAME_LENGTH} characters`;
  if (!/^[A-Za-z0-9_.-]+$/.test(name)) return 'only A-Z, a-z, 0-9, underscore, hyphen and period are allowed';
  if (/^(aws|amazon)\./i.test(name)) return "names starting with 'AWS.' or 'Amazon.' are reserved";
  if (name.startsWith('.') || name.endsWith('.')) return 'it must not start or end with a period';
  if (name.includes('..')) return 'it must not contain two periods in a row';
  return undefined;
}

/** Hex MD5 of the UTF-8 body: what SQS returns as MD5OfMessageBody. */
export function md5OfMessageBody(body: string): string {
  return createHash('md5').update(body, 'utf8').digest('hex');
}

/**
 * MD5OfMessageAttributes as documented in sqs-message-metadata.html, "Calculating
 * the MD5 message digest for message attributes": attributes sorted by name; for
 * each, name, data type, one transport-type byte (1 String/Number, 2 Binary) and the
 * value, every variable part prefixed by its 4-byte big-endian length. SQS omits the
 * field when a message has no attributes; callers decide that.
 */
export function md5OfMessageAttributes(attributes: Record<string, MessageAttributeValue>): string {
  const hash = createHash('md5');
  const withLength = (bytes: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    hash.update(length).update(bytes);
  };
  for (const name of Object.keys(attributes).sort()) {
    const attribute = attributes[name]!;
    withLength(Buffer.from(name, 'utf8'));
    withLength(Buffer.from(attribute.dataType, 'utf8'));
    const binary = attribute.dataType.startsWith('Binary');
    hash.update(Buffer.of(binary ? 2 : 1));
    withLength(binary ? (attribute.binaryValue ?? Buffer.alloc(0)) : Buffer.from(attribute.stringValue ?? '', 'utf8'));
  }
  return hash.digest('hex');
}

const xmlText = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);

/**
 * The query-protocol error body, shaped like a real one (github.com/aws/aws-sdk-php/issues/694).
 * UnknownOperationException has no such body: SQS sends `<UnknownOperationException/>`.
 */
export function sqsErrorXml(error: SqsError, requestId: string): string {
  if (error.code === 'UnknownOperationException') return '<UnknownOperationException/>';
  const type = error.status >= 500 ? 'Receiver' : 'Sender';
  return (
    '<?xml version="1.0"?><ErrorResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/">' +
    `<Error><Type>${type}</Type><Code>${xmlText(error.code)}</Code><Message>${xmlText(error.message)}</Message><Detail/></Error>` +
    `<RequestId>${xmlText(requestId)}</RequestId></ErrorResponse>`
  );
}

/** The query-protocol SendMessage answer, in the order of the API reference's example. */
export function sendMessageResponseXml(result: { messageId: string; md5OfMessageBody: string; md5OfMessageAttributes?: string }, requestId: string): string {
  const attributes = result.md5OfMessageAttributes ? `<MD5OfMessageAttributes>${xmlText(result.md5OfMessageAttributes)}</MD5OfMessageAttributes>` : '';
  return (
    '<?xml version="1.0"?><SendMessageResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/"><SendMessageResult>' +
    `<MD5OfMessageBody>${xmlText(result.md5OfMessageBody)}</MD5OfMessageBody>${attributes}<MessageId>${xmlText(result.messageId)}</MessageId>` +
    `</SendMessageResult><ResponseMetadata><RequestId>${xmlText(requestId)}</RequestId></ResponseMetadata></SendMessageResponse>`
  );
}

/**
 * The same answer as SQS sends it to a caller that accepts JSON (API Gateway's default):
 * the query protocol's JSON form, every member of the result present, null where unset.
 */
export function sendMessageResponseJson(result: { messageId: string; md5OfMessageBody: string; md5OfMessageAttributes?: string }, requestId: string): string {
  return JSON.stringify({
    SendMessageResponse: {
      ResponseMetadata: { RequestId: requestId },
      SendMessageResult: {
        MD5OfMessageAttributes: result.md5OfMessageAttributes ?? null,
        MD5OfMessageBody: result.md5OfMessageBody,
        MD5OfMessageSystemAttributes: null,
        MessageId: result.messageId,
        SequenceNumber: null,
      },
    },
  });
}
