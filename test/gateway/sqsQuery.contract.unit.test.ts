/**
 * Contract: decodeSendMessage reads the SQS query protocol exactly as AWS's own
 * serializer writes it. The second implementation is aws-sdk v2 driven with AWS's
 * query-protocol SQS model (fixtures/README.md says why the model is a copy); the
 * request is captured at v2's `send` step and never leaves the process, and the
 * stand-in's answer is fed back to v2, so v2 also parses our XML and verifies our
 * MD5OfMessageBody with its own checksum code (lib/services/sqs.js).
 */
import { readFileSync } from 'node:fs';
import AWS from 'aws-sdk';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeSendMessage,
  md5OfMessageAttributes,
  md5OfMessageBody,
  sendMessageResponseXml,
  sqsErrorXml,
  type SendMessageInput,
  type SqsError,
} from '../../src/gateway/sqsQuery.js';

const queryModel = JSON.parse(readFileSync(new URL('./fixtures/sqs-2012-11-05.query.min.json', import.meta.url), 'utf8')) as { metadata: { protocol: string } };
const queueUrl = 'https://sqs.ap-northeast-2.amazonaws.com/123456789012/kakao-at-result';

interface Captured {
  path: string;
  contentType: string | undefined;
  body: string;
}
type Reply = { status: number; body: string };
/** The part of AWS.Request the typings leave out: its SequentialExecutor. */
type Emitting = { emit(event: string, args?: unknown[]): void; removeListener(event: string, listener: unknown): void };

function queryClient(): AWS.SQS {
  return new AWS.SQS({
    apiConfig: queryModel,
    region: 'ap-northeast-2',
    credentials: new AWS.Credentials('AKIDEXAMPLE', 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'),
    maxRetries: 0,
  } as AWS.SQS.ClientConfiguration);
}

/** Sends through v2 with the network step replaced: `answer` plays SQS. */
async function throughV2(params: AWS.SQS.SendMessageRequest, answer: (request: Captured) => Reply) {
  const request = queryClient().sendMessage(params);
  let captured: Captured | undefined;
  (request as unknown as Emitting).removeListener('send', AWS.EventListeners.Core.SEND);
  request.on('send', (response) => {
    const sent = (response as unknown as { request: AWS.Request<unknown, AWS.AWSError> & { httpRequest: AWS.HttpRequest } }).request;
    const http = sent.httpRequest;
    captured = { path: http.path, contentType: http.headers['Content-Type'], body: String(http.body) };
    const reply = answer(captured);
    const emitter = sent as unknown as Emitting;
    emitter.emit('httpHeaders', [reply.status, { 'content-type': 'text/xml' }, response, '']);
    emitter.emit('httpData', [Buffer.from(reply.body), response]);
    emitter.emit('httpDone');
  });
  try {
    const data = await request.promise();
    return { captured: captured!, data };
  } catch (error) {
    return { captured: captured!, error: error as AWS.AWSError };
  }
}

/** Plays real SQS: decode, then answer as SQS would (MD5s computed here). */
function standInSqs(request: Captured): Reply {
  const decoded = decodeSendMessage(request);
  if (!decoded.ok) return { status: decoded.status, body: sqsErrorXml(decoded, 'req-1') };
  const { messageBody, messageAttributes } = decoded.input;
  const hasAttributes = Object.keys(messageAttributes).length > 0;
  return {
    status: 200,
    body: sendMessageResponseXml(
      { messageId: 'msg-1', md5OfMessageBody: md5OfMessageBody(messageBody), ...(hasAttributes ? { md5OfMessageAttributes: md5OfMessageAttributes(messageAttributes) } : {}) },
      'req-1',
    ),
  };
}

function decodeCaptured(params: AWS.SQS.SendMessageRequest): Promise<SendMessageInput> {
  return throughV2(params, standInSqs).then(({ captured, error }) => {
    if (error) throw error;
    const decoded = decodeSendMessage(captured);
    if (!decoded.ok) throw new Error(`${decoded.code}: ${decoded.message}`);
    return decoded.input;
  });
}

/** v2's attribute shape, for comparing with what v2 was asked to send. */
function asV2Attributes(input: SendMessageInput): AWS.SQS.MessageBodyAttributeMap {
  return Object.fromEntries(
    Object.entries(input.messageAttributes).map(([name, a]) => [
      name,
      { DataType: a.dataType, ...(a.stringValue !== undefined ? { StringValue: a.stringValue } : {}), ...(a.binaryValue ? { BinaryValue: a.binaryValue } : {}) },
    ]),
  );
}

const bizppurioCallback = JSON.stringify({
  DEVICE: 'KAT',
  CMSGID: '20240101-0001',
  MSGID: '0101ABCD1234',
  PHONE: '01012345678',
  MEDIA: 'KAT',
  TO_NAME: '홍길동',
  UNIXTIME: '1704067200',
  RESULT: '7000',
  USERDATA: 'a+b&c=d%20e',
});

const trickyBodies: Record<string, string> = {
  korean: '카카오 알림톡 결과: 홍길동님께 전송되었습니다',
  'astral-plane emoji': '🎉🚀 done 👍🏽 𝄞',
  'form metacharacters': '& = + % &amp; a+b&c=d%20e 100% %%',
  'lone metacharacters': '+',
  ampersand: '&',
  equals: '=',
  percent: '%',
  'looks like a parameter': '&MessageBody=evil&Action=DeleteQueue',
  quotes: `"double" 'single' \`back\``,
  backslashes: 'C:\\path\\to\\file \\\\server',
  'escaped newline (backslash n)': 'line1\\nline2\\t\\u0041',
  'raw newlines': 'line1\nline2\r\nline3\r',
  tabs: 'col1\tcol2\t\tcol4',
  'angle brackets': '<xml attr="1">&lt;tag&gt;</xml>',
  'one space': ' ',
  'one character': 'x',
  'surrounding spaces': '  padded  ',
  'just a newline': '\n',
  zero: '0',
  'edges of the allowed set': '\uD7FF\uE000\uFFFD\u{10000}\u{10FFFF}',
  'bizppurio callback': bizppurioCallback,
};

describe('the query-protocol model loaded into aws-sdk v2', () => {
  it('is the query protocol (the installed v2 SQS model is JSON)', async () => {
    expect(queryModel.metadata.protocol).toBe('query');
    const installed = JSON.parse(readFileSync(new URL('../../node_modules/aws-sdk/apis/sqs-2012-11-05.min.json', import.meta.url), 'utf8')) as { metadata: { protocol: string } };
    expect(installed.metadata.protocol).toBe('json');
    const { captured } = await throughV2({ QueueUrl: queueUrl, MessageBody: 'x' }, standInSqs);
    expect(captured.contentType).toBe('application/x-www-form-urlencoded; charset=utf-8');
    expect(captured.body).toContain('Action=SendMessage');
  });
});

describe('decodeSendMessage against the AWS query serializer', () => {
  it.each(Object.entries(trickyBodies))('round-trips the body: %s', async (_name, body) => {
    const input = await decodeCaptured({ QueueUrl: queueUrl, MessageBody: body });
    expect(input.messageBody).toBe(body);
    expect(input.queueAccountId).toBe('123456789012');
    expect(input.queueName).toBe('kakao-at-result');
    expect(input.messageAttributes).toEqual({});
  });

  it('round-trips String, Number, custom and Binary attributes', async () => {
    const MessageAttributes: AWS.SQS.MessageBodyAttributeMap = {
      'mirror-request-id': { DataType: 'String', StringValue: 'f'.repeat(32) },
      'vendor.result': { DataType: 'Number', StringValue: '-7000.5e2' },
      payload_json: { DataType: 'String.json', StringValue: '{"a":"b & c + d"}' },
      'raw-bytes': { DataType: 'Binary', BinaryValue: Buffer.from([0, 1, 2, 0xfb, 0xff, 0x3e, 0x3f]) },
      'korean-value': { DataType: 'String', StringValue: '홍길동 🎉 a+b' },
    };
    const input = await decodeCaptured({ QueueUrl: queueUrl, MessageBody: bizppurioCallback, MessageAttributes, DelaySeconds: 5 });
    expect(input.messageBody).toBe(bizppurioCallback);
    expect(asV2Attributes(input)).toEqual(MessageAttributes);
    expect(input.delaySeconds).toBe(5);
  });

  it('round-trips exactly ten attributes, and rejects eleven as SQS does', async () => {
    const attributes = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`attr-${i}`, { DataType: 'String', StringValue: `v${i}` }]));
    const ten = await decodeCaptured({ QueueUrl: queueUrl, MessageBody: 'x', MessageAttributes: attributes(10) });
    expect(Object.keys(ten.messageAttributes)).toHaveLength(10);
    const { error } = await throughV2({ QueueUrl: queueUrl, MessageBody: 'x', MessageAttributes: attributes(11) }, standInSqs);
    expect(error).toMatchObject({ code: 'InvalidParameterValue', message: 'Number of message attributes [11] exceeds the allowed maximum [10].', statusCode: 400 });
  });

  it('rejects an empty String attribute value with the message real SQS returns', async () => {
    const { error } = await throughV2({ QueueUrl: queueUrl, MessageBody: 'x', MessageAttributes: { x: { DataType: 'String', StringValue: '' } } }, standInSqs);
    expect(error).toMatchObject({ code: 'InvalidParameterValue', message: "Message (user) attribute 'x' must contain a non-empty value of type 'String'.", statusCode: 400 });
  });

  it('takes a body of exactly 1 MiB and refuses one byte more, attributes included', async () => {
    const limit = 1_048_576;
    const atLimit = await decodeCaptured({ QueueUrl: queueUrl, MessageBody: 'x'.repeat(limit) });
    expect(atLimit.messageBody).toHaveLength(limit);
    // The attribute counts as name + data type + value: 1 + 6 + 1 bytes.
    const overBy1 = { QueueUrl: queueUrl, MessageBody: 'x'.repeat(limit - 8 + 1), MessageAttributes: { n: { DataType: 'String', StringValue: 'v' } } };
    const { error } = await throughV2(overBy1, standInSqs);
    expect(error).toMatchObject({ code: 'InvalidParameterValue', message: 'One or more parameters are invalid. Reason: Message must be shorter than 1048576 bytes.' });
  });

  it('refuses a body with a character outside the allowed set', async () => {
    const { error } = await throughV2({ QueueUrl: queueUrl, MessageBody: 'bell \u0007 here' }, standInSqs);
    expect(error).toMatchObject({ code: 'InvalidMessageContents', statusCode: 400 });
  });

  it('decodes any body made of characters SQS allows (property)', async () => {
    const allowedCharacter = fc.oneof(
      { weight: 3, arbitrary: fc.constantFrom('&', '=', '+', '%', ' ', '#', '\\', '"', "'", '<', '>', '\t', '\n', '\r', '~', '*', '!') },
      { weight: 3, arbitrary: fc.integer({ min: 0x20, max: 0x7e }) },
      { weight: 2, arbitrary: fc.integer({ min: 0xac00, max: 0xd7a3 }) },
      { weight: 1, arbitrary: fc.integer({ min: 0x80, max: 0xd7ff }) },
      { weight: 1, arbitrary: fc.integer({ min: 0xe000, max: 0xfffd }) },
      { weight: 2, arbitrary: fc.integer({ min: 0x10000, max: 0x10ffff }) },
    ).map((c) => (typeof c === 'number' ? String.fromCodePoint(c) : c));
    const allowedText = fc.string({ unit: allowedCharacter, minLength: 1, maxLength: 80 });
    await fc.assert(
      fc.asyncProperty(allowedText, fc.option(allowedText, { nil: undefined }), async (body, attribute) => {
        const MessageAttributes = attribute === undefined ? undefined : { 'mirror-request-id': { DataType: 'String', StringValue: attribute } };
        const input = await decodeCaptured({ QueueUrl: queueUrl, MessageBody: body, ...(MessageAttributes ? { MessageAttributes } : {}) });
        expect(input.messageBody).toBe(body);
        expect(asV2Attributes(input)).toEqual(MessageAttributes ?? {});
      }),
      { numRuns: 300 },
    );
  });
});

describe('the stand-in answer as aws-sdk v2 reads it', () => {
  it('passes v2 verification of MD5OfMessageBody and carries MD5OfMessageAttributes', async () => {
    const MessageAttributes = { 'mirror-request-id': { DataType: 'String', StringValue: 'abc' } };
    const { data, error } = await throughV2({ QueueUrl: queueUrl, MessageBody: bizppurioCallback, MessageAttributes }, standInSqs);
    expect(error).toBeUndefined();
    expect(data).toMatchObject({
      MessageId: 'msg-1',
      MD5OfMessageBody: md5OfMessageBody(bizppurioCallback),
      MD5OfMessageAttributes: md5OfMessageAttributes({ 'mirror-request-id': { dataType: 'String', stringValue: 'abc' } }),
    });
  });

  it('is refused by v2 when the body MD5 is wrong (v2 really checks)', async () => {
    const wrong = () => ({ status: 200, body: sendMessageResponseXml({ messageId: 'm', md5OfMessageBody: md5OfMessageBody('other') }, 'r') });
    const { error } = await throughV2({ QueueUrl: queueUrl, MessageBody: 'body' }, wrong);
    expect(error).toMatchObject({ code: 'InvalidChecksum' });
  });

  it('gives v2 the error code and message of a query-protocol error', async () => {
    const error: SqsError = { status: 400, code: 'InvalidParameterValue', message: `Message (user) attribute 'a&b' <is> "bad"` };
    const { error: seen } = await throughV2({ QueueUrl: queueUrl, MessageBody: 'x' }, () => ({ status: 400, body: sqsErrorXml(error, 'r-1') }));
    expect(seen).toMatchObject({ code: 'InvalidParameterValue', message: error.message, statusCode: 400 });
  });

  it('gives v2 the bare UnknownOperationException it recognises', async () => {
    const unknown = decodeSendMessage({ path: '/123456789012/q', contentType: 'application/json', body: '{}' });
    expect(unknown).toMatchObject({ ok: false, status: 404, code: 'UnknownOperationException' });
    const { error } = await throughV2({ QueueUrl: queueUrl, MessageBody: 'x' }, () => ({ status: 404, body: sqsErrorXml(unknown as SqsError, 'r') }));
    expect(error).toMatchObject({ code: 'UnknownOperation', statusCode: 404 });
  });
});

describe('forms aws-sdk v2 never writes but API Gateway templates do', () => {
  const form = (body: string, contentType = 'application/x-www-form-urlencoded') => decodeSendMessage({ path: '/123456789012/kakao-at-result', contentType, body });

  it('reads + as a space (Java URLEncoder, hence $util.urlEncode, writes spaces as +)', () => {
    expect(form('Action=SendMessage&MessageBody=hello+world+%2B+1')).toMatchObject({ ok: true, input: { messageBody: 'hello world + 1' } });
  });

  it('reads Java-style escapes: * left raw, ~ ! \' ( ) escaped, lower-case hex', () => {
    expect(form('Action=SendMessage&MessageBody=*%7E%21%27%28%29%e2%82%ac')).toMatchObject({ ok: true, input: { messageBody: "*~!'()€" } });
  });

  it('takes the queue from the path when no QueueUrl is sent, and ignores the charset parameter', () => {
    const decoded = form('Action=SendMessage&MessageBody=x', 'Application/X-WWW-Form-Urlencoded; charset=UTF-8');
    expect(decoded).toEqual({ ok: true, input: { queueAccountId: '123456789012', queueName: 'kakao-at-result', messageBody: 'x', messageAttributes: {} } });
  });

  it('reads the body from a Buffer as UTF-8', () => {
    const decoded = decodeSendMessage({ path: '/123456789012/q', contentType: 'application/x-www-form-urlencoded', body: Buffer.from('Action=SendMessage&MessageBody=한글+%F0%9F%8E%89') });
    expect(decoded).toMatchObject({ ok: true, input: { messageBody: '한글 🎉' } });
  });
});
