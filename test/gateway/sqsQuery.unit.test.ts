/**
 * The SQS rules decodeSendMessage enforces and the emulator does not, one request
 * each, and the MD5 digests checked against published values.
 */
import { describe, expect, it } from 'vitest';
import { decodeSendMessage, md5OfMessageAttributes, md5OfMessageBody, sqsErrorXml } from '../../src/gateway/sqsQuery.js';

const form = 'application/x-www-form-urlencoded';
const send = (params: Record<string, string>, path = '/123456789012/kakao-at-result') =>
  decodeSendMessage({ path, contentType: form, body: new URLSearchParams({ Action: 'SendMessage', ...params }).toString() });
/** One message attribute, N = 1, from the fields given. */
const withAttribute = (fields: Record<string, string>) =>
  send({ MessageBody: 'x', ...Object.fromEntries(Object.entries(fields).map(([k, v]) => [`MessageAttribute.1.${k}`, v])) });
const invalid = (message: string | RegExp) => ({ ok: false, status: 400, code: 'InvalidParameterValue', message: typeof message === 'string' ? message : expect.stringMatching(message) });

describe('which operation SQS sees', () => {
  it('answers 404 UnknownOperationException without a form Content-Type (API Gateway sends application/json by default)', () => {
    for (const contentType of ['application/json', undefined, 'text/plain']) {
      expect(decodeSendMessage({ path: '/123456789012/q', contentType, body: 'Action=SendMessage&MessageBody=x' })).toMatchObject({ ok: false, status: 404, code: 'UnknownOperationException' });
    }
  });

  it('answers 404 UnknownOperationException when the form has no Action', () => {
    expect(decodeSendMessage({ path: '/123456789012/q', contentType: form, body: 'MessageBody=x' })).toMatchObject({ ok: false, status: 404, code: 'UnknownOperationException' });
  });

  it('answers 400 InvalidAction for another action, or one with a stray newline from the template', () => {
    expect(send({ Action: 'ReceiveMessage' })).toEqual({ ok: false, status: 400, code: 'InvalidAction', message: 'The action ReceiveMessage is not valid for this endpoint.' });
    expect(send({ Action: 'SendMessage\n', MessageBody: 'x' })).toMatchObject({ ok: false, code: 'InvalidAction' });
  });
});

describe('the queue address', () => {
  it('takes a FIFO queue name', () => {
    expect(send({ MessageBody: 'x' }, '/123456789012/orders.fifo')).toMatchObject({ ok: true, input: { queueName: 'orders.fifo' } });
  });

  it('refuses a path that is not /{12-digit account}/{queue}', () => {
    for (const path of ['/12345/q', '/123456789012', '/123456789012/q/extra', '/q']) {
      expect(send({ MessageBody: 'x' }, path)).toMatchObject({ ok: false, status: 404, code: 'InvalidAddress' });
    }
    expect(send({ MessageBody: 'x' }, '/')).toMatchObject({ ok: false, status: 400, code: 'MissingParameter', message: 'The request must contain the parameter QueueUrl.' });
  });

  it('answers NonExistentQueue for a name no queue can have', () => {
    for (const path of ['/123456789012/bad.name', `/123456789012/${'a'.repeat(81)}`, '/123456789012/sp%20ace']) {
      expect(send({ MessageBody: 'x' }, path)).toMatchObject({ ok: false, status: 400, code: 'AWS.SimpleQueueService.NonExistentQueue' });
    }
  });

  it('lets a QueueUrl parameter win over the path', () => {
    const decoded = send({ MessageBody: 'x', QueueUrl: 'https://sqs.ap-northeast-2.amazonaws.com/210987654321/other' });
    expect(decoded).toMatchObject({ ok: true, input: { queueAccountId: '210987654321', queueName: 'other' } });
  });
});

describe('the message body', () => {
  it('is required and must not be empty', () => {
    const missing = { ok: false, status: 400, code: 'MissingParameter', message: 'The request must contain the parameter MessageBody.' };
    expect(send({})).toEqual(missing);
    expect(send({ MessageBody: '' })).toEqual(missing);
  });

  it('refuses characters outside the XML character set SQS allows', () => {
    for (const bad of ['\u0000', 'a\u0008b', '\u001F', '\uFFFE', '\uFFFF']) {
      expect(send({ MessageBody: bad })).toMatchObject({ ok: false, status: 400, code: 'InvalidMessageContents' });
    }
    for (const good of ['\t', '\n', '\r', ' ', '\uD7FF', '\uE000', '\uFFFD', '\u{10000}', '\u{10FFFF}']) {
      expect(send({ MessageBody: good })).toMatchObject({ ok: true, input: { messageBody: good } });
    }
  });

  it('turns an escaped lone surrogate into U+FFFD (UTF-8 decoding), which SQS accepts', () => {
    // %ED%A0%BD is the (invalid) UTF-8 form of U+D83D; the WHATWG decoder replaces it.
    const decoded = decodeSendMessage({ path: '/123456789012/q', contentType: form, body: 'Action=SendMessage&MessageBody=a%ED%A0%BDb' });
    expect(decoded).toMatchObject({ ok: true, input: { messageBody: 'a\uFFFD\uFFFD\uFFFDb' } });
  });
});

describe('message attributes (sqs-message-metadata.html)', () => {
  it('decodes String, Number, Binary and custom types', () => {
    const decoded = send({
      MessageBody: 'x',
      'MessageAttribute.1.Name': 'a',
      'MessageAttribute.1.Value.DataType': 'String',
      'MessageAttribute.1.Value.StringValue': 'v',
      'MessageAttribute.2.Name': 'n',
      'MessageAttribute.2.Value.DataType': 'Number.float',
      'MessageAttribute.2.Value.StringValue': '3.14',
      'MessageAttribute.3.Name': 'b',
      'MessageAttribute.3.Value.DataType': 'Binary',
      'MessageAttribute.3.Value.BinaryValue': Buffer.from([0xff, 0]).toString('base64'),
    });
    expect(decoded).toMatchObject({
      ok: true,
      input: { messageAttributes: { a: { dataType: 'String', stringValue: 'v' }, n: { dataType: 'Number.float', stringValue: '3.14' }, b: { dataType: 'Binary', binaryValue: Buffer.from([0xff, 0]) } } },
    });
  });

  it('refuses an empty value with the text real SQS uses', () => {
    expect(withAttribute({ Name: 'x', 'Value.DataType': 'String', 'Value.StringValue': '' })).toEqual(invalid("Message (user) attribute 'x' must contain a non-empty value of type 'String'."));
    expect(withAttribute({ Name: 'x', 'Value.DataType': 'Number', 'Value.StringValue': '' })).toEqual(invalid("Message (user) attribute 'x' must contain a non-empty value of type 'Number'."));
    expect(withAttribute({ Name: 'x', 'Value.DataType': 'Binary', 'Value.BinaryValue': '' })).toEqual(invalid("Message (user) attribute 'x' must contain a non-empty value of type 'Binary'."));
  });

  it('refuses a missing or empty name, type or value', () => {
    expect(withAttribute({ 'Value.DataType': 'String', 'Value.StringValue': 'v' })).toEqual(invalid('The request must contain non-empty message attribute name.'));
    expect(withAttribute({ Name: 'x', 'Value.StringValue': 'v' })).toEqual(invalid("The message attribute 'x' must contain non-empty message attribute type."));
    expect(withAttribute({ Name: 'x', 'Value.DataType': 'String' })).toEqual(invalid("The message attribute 'x' must contain non-empty message attribute value."));
  });

  it('refuses a type that is not String, Number or Binary (with an optional .label)', () => {
    for (const dataType of ['string', 'Text', 'StringX', 'Binaryy.x']) {
      expect(withAttribute({ Name: 'x', 'Value.DataType': dataType, 'Value.StringValue': 'v' })).toEqual(
        invalid("The message attribute 'x' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String."),
      );
    }
    expect(withAttribute({ Name: 'x', 'Value.DataType': `String.${'l'.repeat(250)}`, 'Value.StringValue': 'v' })).toMatchObject({ ok: false, code: 'InvalidParameterValue' });
  });

  it('refuses a value in the wrong field, two values, a non-number, bad base64, disallowed characters', () => {
    expect(withAttribute({ Name: 'x', 'Value.DataType': 'Binary', 'Value.StringValue': 'v' })).toEqual(invalid("Message (user) attribute 'x' with type 'Binary' must use field 'Binary'."));
    expect(withAttribute({ Name: 'x', 'Value.DataType': 'String', 'Value.BinaryValue': 'AA==' })).toEqual(invalid("Message (user) attribute 'x' with type 'String' must use field 'String'."));
    expect(withAttribute({ Name: 'x', 'Value.DataType': 'String', 'Value.StringValue': 'v', 'Value.BinaryValue': 'AA==' })).toEqual(invalid("Message (user) attribute 'x' must have a single value."));
    expect(withAttribute({ Name: 'x', 'Value.DataType': 'Number', 'Value.StringValue': '12abc' })).toEqual(invalid("Can't cast the value of message (user) attribute 'x' to a number."));
    expect(withAttribute({ Name: 'x', 'Value.DataType': 'Binary', 'Value.BinaryValue': 'not base64!' })).toEqual(invalid(/not valid base64/));
    expect(withAttribute({ Name: 'x', 'Value.DataType': 'String', 'Value.StringValue': 'a\u0001' })).toEqual(invalid(/outside the allowed set/));
  });

  it('applies the name rules', () => {
    const named = (name: string) => withAttribute({ Name: name, 'Value.DataType': 'String', 'Value.StringValue': 'v' });
    for (const good of ['a', 'mirror-request-id', 'A_b.c-D9', 'n'.repeat(256), 'AWSx', 'aws-x']) expect(named(good)).toMatchObject({ ok: true });
    for (const bad of ['n'.repeat(257), 'has space', '한글', 'AWS.x', 'aws.x', 'Amazon.x', 'AMAZON.x', '.lead', 'trail.', 'a..b']) {
      expect(named(bad)).toEqual(invalid(new RegExp(`^Message \\(user\\) attribute name '.*' is invalid`)));
    }
  });

  it('refuses a name used twice', () => {
    const twice = send({
      MessageBody: 'x',
      'MessageAttribute.1.Name': 'a',
      'MessageAttribute.1.Value.DataType': 'String',
      'MessageAttribute.1.Value.StringValue': 'v',
      'MessageAttribute.2.Name': 'a',
      'MessageAttribute.2.Value.DataType': 'String',
      'MessageAttribute.2.Value.StringValue': 'w',
    });
    expect(twice).toEqual(invalid("Message (user) attribute name 'a' is used more than once."));
  });

  it('ignores parameters it does not know (a body split by a missing urlEncode lands like this)', () => {
    expect(send({ MessageBody: 'x', CMSGID: 'y', 'MessageAttribute.1.Value.StringListValue.1': 'z' })).toEqual({
      ok: true,
      input: { queueAccountId: '123456789012', queueName: 'kakao-at-result', messageBody: 'x', messageAttributes: {} },
    });
  });
});

describe('DelaySeconds, MessageGroupId and MessageDeduplicationId', () => {
  it('takes 0..900 and refuses anything else', () => {
    expect(send({ MessageBody: 'x', DelaySeconds: '0' })).toMatchObject({ ok: true, input: { delaySeconds: 0 } });
    expect(send({ MessageBody: 'x', DelaySeconds: '900' })).toMatchObject({ ok: true, input: { delaySeconds: 900 } });
    for (const bad of ['901', '-1', '1.5', 'abc', '']) {
      expect(send({ MessageBody: 'x', DelaySeconds: bad })).toEqual(invalid(`Value ${bad} for parameter DelaySeconds is invalid. Reason: must be between 0 and 900, if provided.`));
    }
  });

  it('passes the FIFO parameters through', () => {
    expect(send({ MessageBody: 'x', MessageGroupId: 'g 1', MessageDeduplicationId: 'd-1' }, '/123456789012/q.fifo')).toMatchObject({
      ok: true,
      input: { messageGroupId: 'g 1', messageDeduplicationId: 'd-1' },
    });
  });
});

describe('MD5 digests', () => {
  it('MD5OfMessageBody is the hex MD5 of the UTF-8 body', () => {
    expect(md5OfMessageBody('bar')).toBe('37b51d194a7513e45b56f6524f2d51f2');
    expect(md5OfMessageBody('한글')).toBe('52b8c54ab4ea672ee6cdfdfef0a31db4'); // printf '한글' | md5sum
  });

  // Published values: the README of the npm package aws-md5-of-message-attributes,
  // and elasticmq's answer quoted in github.com/softwaremill/elasticmq/issues/373.
  it.each([
    [{ attribName1: { dataType: 'String', stringValue: 'attribValue 1' } }, '19e27d4e946b072f3f58da80d94fd778'],
    [{ customNumberTypeAttrib: { dataType: 'Number.float', stringValue: '4563442423554324324264524243.32543234' } }, '9fe1b90bbd9965bdf77bac517c7d2495'],
    [{ binaryAttribute: { dataType: 'Binary', binaryValue: Buffer.from('Hello binary world!') } }, '31a92b15d92f8db860eda32aceb656c3'],
    [
      {
        attribName1: { dataType: 'String', stringValue: 'attribValue 1' },
        customNumberTypeAttrib: { dataType: 'Number.float', stringValue: '4563442423554324324264524243.32543234' },
        binaryAttribute: { dataType: 'Binary', binaryValue: Buffer.from('Hello binary world!') },
      },
      'c932db14a896c663f83c260297d594ff',
    ],
    [{ piyo: { dataType: 'String', stringValue: '' } }, '4166cc16b73099be3abe8e2b0f544c99'],
  ])('MD5OfMessageAttributes of %j is %s', (attributes, expected) => {
    expect(md5OfMessageAttributes(attributes)).toBe(expected);
  });
});

describe('sqsErrorXml', () => {
  it('writes the query-protocol ErrorResponse, escaped, Sender for 4xx and Receiver for 5xx', () => {
    expect(sqsErrorXml({ status: 400, code: 'InvalidParameterValue', message: `a & <b> "c" 'd'` }, 'r-1')).toBe(
      '<?xml version="1.0"?><ErrorResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/"><Error><Type>Sender</Type><Code>InvalidParameterValue</Code>' +
        '<Message>a &amp; &lt;b&gt; &quot;c&quot; &apos;d&apos;</Message><Detail/></Error><RequestId>r-1</RequestId></ErrorResponse>',
    );
    expect(sqsErrorXml({ status: 500, code: 'InternalError', message: 'x' }, 'r')).toContain('<Type>Receiver</Type>');
  });
});
