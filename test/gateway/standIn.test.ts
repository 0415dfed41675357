/**
 * The gateway stand-in executing the REAL rendered document (renderOpenApi with the
 * template under templates/apigw), over HTTPS with a certificate from a test CA made
 * by openssl, delivering to fauxqs in its own process. Status codes and bodies are
 * the ones API Gateway answers (docs/apigw.md lists the sources and the differences).
 */
import { request as httpsRequest } from 'node:https';
import { GetQueueAttributesCommand, ReceiveMessageCommand, DeleteMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/config/validate.js';
import type { MirrorConfig } from '../../src/config/types.js';
import type { OpenApiDocument, Integration } from '../../src/gateway/openapiDocument.js';
import { gatewayResponses, startStandIn, type StandIn } from '../../src/gateway/standIn.js';
import { renderOpenApi } from '../../src/render/apigw/openapi.js';
import { loadTemplates } from '../../src/render/templates.js';
import { createTestCa, type TestCa } from '../../src/sandbox/testCa.js';
import { startFauxqs, type Fauxqs } from '../../src/sqs/fauxqs.js';
import { exampleConfig, withValue, type RawConfigTree } from '../support/config.js';

const executeApiHost = 'a1b2c3d4e5.execute-api.ap-northeast-2.amazonaws.com';
const customDomain = 'callbacks.example.com';
const basePath = 'callbacks';
const resource = '/kakao-at-result';

/** Every character the nginx-side tests send, with a raw newline between members. */
const trickyBody =
  '{"TO_NAME":"홍길동 카카오 알림톡","USERDATA":"a+b & c=d %41 100% %%","emoji":"🎉🚀 👍🏽 𝄞",\n' +
  '"quotes":"\\"double\\" \'single\'","path":"back\\\\slash","DEVICE":"KAT","CMSGID":"c-1","MSGID":"m-1","PHONE":"01012345678","MEDIA":"KAT","UNIXTIME":"1704067200","RESULT":"7000"}';

let ca: TestCa;
let fauxqs: Fauxqs;
let sqs: SQSClient;
let mappingTemplate: string;
const standIns: StandIn[] = [];

interface Gateway {
  port: number;
  queueUrl: string;
  document: OpenApiDocument;
}

function configFor(edit: (tree: RawConfigTree) => RawConfigTree = (t) => t): MirrorConfig {
  const result = validateConfig(edit(withValue(exampleConfig(), 'apiGateway.basePath', basePath)));
  if (!result.ok) throw new Error(JSON.stringify(result.issues));
  return result.config;
}

/** A stand-in for `document`, delivering to a queue of its own (so "nothing landed" is about this gateway only). */
async function gateway(name: string, document: OpenApiDocument): Promise<Gateway> {
  const queueUrl = await fauxqs.createQueue(`standin-${name}`);
  const standIn = await startStandIn({
    document,
    stage: 'dev',
    executeApiHost,
    customDomain: { host: customDomain, basePath },
    tls: { cert: ca.cert, key: ca.key },
    sqs: { client: sqs, queueUrl: async (account, queue) => (account === '123456789012' && queue === 'kakao-at-result' ? queueUrl : undefined) },
  });
  standIns.push(standIn);
  return { port: standIn.port, queueUrl, document };
}

interface Reply {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

/** One HTTPS request, verified against the test CA with SNI = the host it names. */
function post(gw: Gateway, path: string, body: string, headers: Record<string, string> = {}, options: { host?: string; method?: string } = {}): Promise<Reply> {
  const host = options.host ?? executeApiHost;
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: '127.0.0.1',
        port: gw.port,
        method: options.method ?? 'POST',
        path,
        ca: ca.caPem,
        // A Host the certificate does not name still needs a verifiable handshake.
        servername: host === customDomain ? customDomain : executeApiHost,
        headers: { host, 'content-type': 'application/json', ...headers, 'content-length': Buffer.byteLength(body) },
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Content-Type left out entirely. */
function postWithoutContentType(gw: Gateway, path: string, body: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      { host: '127.0.0.1', port: gw.port, method: 'POST', path, ca: ca.caPem, servername: executeApiHost, headers: { host: executeApiHost, 'content-length': Buffer.byteLength(body) }, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

interface Landed {
  body: string;
  attributes: Record<string, string>;
}

/** Takes the one message the gateway just queued (it answers only after SendMessage returned). */
async function takeOne(gw: Gateway): Promise<Landed> {
  const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl: gw.queueUrl, MaxNumberOfMessages: 10, MessageAttributeNames: ['All'], WaitTimeSeconds: 2 }));
  const messages = got.Messages ?? [];
  expect(messages).toHaveLength(1);
  const message = messages[0]!;
  await sqs.send(new DeleteMessageCommand({ QueueUrl: gw.queueUrl, ReceiptHandle: message.ReceiptHandle! }));
  return {
    body: message.Body ?? '',
    attributes: Object.fromEntries(Object.entries(message.MessageAttributes ?? {}).map(([k, v]) => [k, v.StringValue ?? ''])),
  };
}

/** Messages in the queue, visible or not: 0 means nothing landed. */
async function queued(gw: Gateway): Promise<number> {
  const out = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: gw.queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }));
  return Number(out.Attributes?.ApproximateNumberOfMessages ?? 0) + Number(out.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
}

const integrationOf = (document: OpenApiDocument): Integration => document.paths[resource]!.post!['x-amazon-apigateway-integration']!;

let main: Gateway;
beforeAll(async () => {
  // openssl and fauxqs start in parallel; each is stopped in afterAll whatever happens.
  const [madeCa, startedFauxqs, templates] = await Promise.all([createTestCa([executeApiHost, customDomain]), startFauxqs(), loadTemplates('apigw')]);
  ca = madeCa;
  fauxqs = startedFauxqs;
  sqs = fauxqs.client();
  mappingTemplate = templates.files['sendMessage.vtl']!;
  main = await gateway('main', renderOpenApi(configFor(), mappingTemplate));
}, 60_000);

afterAll(async () => {
  await Promise.allSettled(standIns.map((s) => s.stop()));
  sqs?.destroy();
  await Promise.allSettled([fauxqs?.stop(), ca?.remove()]);
});

describe('gateway stand-in: routing as API Gateway routes', () => {
  it('delivers a tricky body byte for byte, with the request id header as the mirror-request-id attribute; 200 with an empty body', async () => {
    const reply = await post(main, `/dev${resource}`, trickyBody, { 'X-Mirror-Request-Id': '0123456789abcdef0123456789abcdef' });
    expect(reply).toMatchObject({ status: 200, body: '' });
    const landed = await takeOne(main);
    expect(Buffer.from(landed.body).equals(Buffer.from(trickyBody))).toBe(true);
    expect(landed.attributes).toEqual({ 'mirror-request-id': '0123456789abcdef0123456789abcdef' });
  });

  it('no request id header: the message lands without the attribute (not a 400 from SQS for an empty attribute)', async () => {
    expect((await post(main, `/dev${resource}`, '{"n":1}')).status).toBe(200);
    expect(await takeOne(main)).toEqual({ body: '{"n":1}', attributes: {} });
  });

  it('an empty request id header: no attribute either', async () => {
    expect((await post(main, `/dev${resource}`, '{"n":2}', { 'X-Mirror-Request-Id': '' })).status).toBe(200);
    expect(await takeOne(main)).toEqual({ body: '{"n":2}', attributes: {} });
  });

  it('the probe header becomes the mirror-probe attribute, beside the request id', async () => {
    expect((await post(main, `/dev${resource}`, '{"probe":true}', { 'X-Mirror-Probe': 'probe-7', 'X-Mirror-Request-Id': 'r-7' })).status).toBe(200);
    expect((await takeOne(main)).attributes).toEqual({ 'mirror-request-id': 'r-7', 'mirror-probe': 'probe-7' });
  });

  it('no Content-Type at all is taken as application/json', async () => {
    expect((await postWithoutContentType(main, `/dev${resource}`, '{"n":3}')).status).toBe(200);
    expect((await takeOne(main)).body).toBe('{"n":3}');
  });

  it.each([
    ['an unknown resource', `/dev/kakao-at-results`],
    ['a wrong stage', `/prod${resource}`],
    ['no stage', resource],
    ['the stage in a different case', `/DEV${resource}`],
  ])('%s: 403 {"message":"Missing Authentication Token"}, nothing queued', async (_what, path) => {
    const reply = await post(main, path, '{"n":4}');
    expect(reply.status).toBe(403);
    expect(reply.body).toBe('{"message":"Missing Authentication Token"}');
    expect(reply.headers['x-amzn-errortype']).toBe('MissingAuthenticationTokenException');
    expect(await queued(main)).toBe(0);
  });

  it('a method the resource does not have: 403 Missing Authentication Token', async () => {
    const reply = await post(main, `/dev${resource}`, '', {}, { method: 'PUT' });
    expect(reply).toMatchObject({ status: 403, body: gatewayResponses.missingAuthenticationToken.body });
  });

  it('a Host the API does not serve: 403 {"message":"Forbidden"}', async () => {
    const reply = await post(main, `/dev${resource}`, '{"n":5}', {}, { host: 'abcdefghij.execute-api.ap-northeast-2.amazonaws.com' });
    expect(reply.status).toBe(403);
    expect(reply.body).toBe('{"message":"Forbidden"}');
    expect(await queued(main)).toBe(0);
  });

  it('the custom domain with its base path delivers; a wrong base path, none, or the stage instead is 403 Missing Authentication Token', async () => {
    const ok = await post(main, `/${basePath}${resource}`, '{"via":"domain"}', { 'X-Mirror-Request-Id': 'd-1' }, { host: customDomain });
    expect(ok).toMatchObject({ status: 200, body: '' });
    expect(await takeOne(main)).toEqual({ body: '{"via":"domain"}', attributes: { 'mirror-request-id': 'd-1' } });
    for (const path of [`/v2${resource}`, resource, `/dev${resource}`, `/${basePath}x${resource}`]) {
      const reply = await post(main, path, '{"via":"domain"}', {}, { host: customDomain });
      expect({ path, status: reply.status, body: reply.body }).toEqual({ path, status: 403, body: '{"message":"Missing Authentication Token"}' });
    }
    expect(await queued(main)).toBe(0);
  });
});

describe('gateway stand-in: media types and request validation', () => {
  it('text/plain has no template: 415 with passthrough NEVER, even for a body that is not JSON (no model for text/plain, so no validation first)', async () => {
    for (const body of ['{"n":6}', 'not json at all']) {
      const reply = await post(main, `/dev${resource}`, body, { 'Content-Type': 'text/plain' });
      expect({ status: reply.status, body: JSON.parse(reply.body) as unknown }).toEqual({ status: 415, body: { message: 'Unsupported Media Type' } });
    }
    expect(await queued(main)).toBe(0);
  });

  it('the charset variants vendors send are served', async () => {
    for (const type of ['application/json; charset=utf-8', 'application/json;charset=UTF-8']) {
      expect((await post(main, `/dev${resource}`, '{"charset":1}', { 'Content-Type': type })).status).toBe(200);
      expect((await takeOne(main)).body).toBe('{"charset":1}');
    }
  });

  it.each([
    ['a JSON array', '[{"n":1}]'],
    ['a body that is not JSON', 'MSGID=1&RESULT=7000'],
    ['an empty body', ''],
    ['a JSON string', '"text"'],
  ])('%s fails the JSON-object model: 400 {"message": "Invalid request body"}, nothing queued', async (_what, body) => {
    const reply = await post(main, `/dev${resource}`, body);
    expect(reply.status).toBe(400);
    expect(reply.body).toBe('{"message": "Invalid request body"}');
    expect(JSON.parse(reply.body)).toEqual({ message: 'Invalid request body' });
    expect(await queued(main)).toBe(0);
  });

  it('vendor-schema: a callback missing MSGID is refused with 400; a complete one is delivered', async () => {
    const strict = await gateway('vendor-schema', renderOpenApi(configFor((t) => withValue(t, 'apiGateway.requestValidation', 'vendor-schema')), mappingTemplate));
    const complete = JSON.parse(trickyBody) as Record<string, string>;
    const { MSGID: _dropped, ...withoutMsgid } = complete;
    const refused = await post(strict, `/dev${resource}`, JSON.stringify(withoutMsgid));
    expect(refused).toMatchObject({ status: 400, body: gatewayResponses.badRequestBody.body });
    expect(await queued(strict)).toBe(0);
    // The same body passes the default JSON-object model: the stricter model is what refused it.
    expect((await post(main, `/dev${resource}`, JSON.stringify(withoutMsgid))).status).toBe(200);
    await takeOne(main);
    expect((await post(strict, `/dev${resource}`, trickyBody)).status).toBe(200);
    expect((await takeOne(strict)).body).toBe(trickyBody);
  });
});

describe('gateway stand-in: integration defects the seed had', () => {
  it("the seed's template (no $util.urlEncode) lands a different body: + becomes a space and the body is cut at &", async () => {
    const document = renderOpenApi(configFor(), mappingTemplate);
    const integration = integrationOf(document);
    integration.requestTemplates = Object.fromEntries(Object.keys(integration.requestTemplates!).map((type) => [type, 'Action=SendMessage&MessageBody=$input.body']));
    const seed = await gateway('seed', document);
    const body = '{"USERDATA":"a+b & c=d","RESULT":"7000"}';
    expect((await post(seed, `/dev${resource}`, body)).status).toBe(200);
    const landed = await takeOne(seed);
    expect(landed.body).not.toBe(body);
    expect(landed.body).toBe('{"USERDATA":"a b ');
    // The correct template, same body: byte for byte.
    expect((await post(main, `/dev${resource}`, body)).status).toBe(200);
    expect((await takeOne(main)).body).toBe(body);
  });

  it('a wrong integration Content-Type (application/json): SQS answers UnknownOperationException, the vendor gets a 5xx, never a 200, and nothing lands', async () => {
    const document = renderOpenApi(configFor(), mappingTemplate);
    integrationOf(document).requestParameters = { 'integration.request.header.Content-Type': "'application/json'" };
    const wrong = await gateway('wrong-content-type', document);
    for (const body of ['{"n":8}', trickyBody]) {
      const reply = await post(wrong, `/dev${resource}`, body, { 'X-Mirror-Request-Id': 'w-1' });
      expect(reply.status).toBeGreaterThanOrEqual(500);
      expect(reply.status).toBeLessThan(600);
      expect(JSON.parse(reply.body)).toEqual({ message: 'the callback was not queued; retry' });
    }
    expect(await queued(wrong)).toBe(0);
  });

  it('an API key is required when apiKeyFile is set: 403 Forbidden without x-api-key, delivered with one', async () => {
    const keyed = await gateway('api-key', renderOpenApi(configFor((t) => withValue(t, 'apiGateway.apiKeyFile', '/etc/nginx/mirror/api-key.conf')), mappingTemplate));
    const refused = await post(keyed, `/dev${resource}`, '{"n":9}');
    expect(refused).toMatchObject({ status: 403, body: '{"message":"Forbidden"}' });
    expect((await post(keyed, `/dev${resource}`, '{"n":9}', { 'x-api-key': '' })).status).toBe(403);
    expect(await queued(keyed)).toBe(0);
    expect((await post(keyed, `/dev${resource}`, '{"n":9}', { 'x-api-key': 'k'.repeat(40) })).status).toBe(200);
    expect((await takeOne(keyed)).body).toBe('{"n":9}');
    // The main gateway requires none.
    expect((await post(main, `/dev${resource}`, '{"n":10}')).status).toBe(200);
    await takeOne(main);
  });

  it('a resource policy for the vendor\'s addresses refuses a caller outside them (403, explicit deny) and admits one inside', async () => {
    const outside = await gateway('policy-outside', renderOpenApi(configFor((t) => withValue(t, 'apiGateway.sourceAddresses', ['203.0.113.0/24', '2001:db8::/32'])), mappingTemplate));
    const refused = await post(outside, `/dev${resource}`, '{"n":11}');
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.body)).toEqual({
      Message: 'User: anonymous is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:ap-northeast-2:********9012:a1b2c3d4e5/dev/POST/kakao-at-result with an explicit deny',
    });
    expect(await queued(outside)).toBe(0);
    const inside = await gateway('policy-inside', renderOpenApi(configFor((t) => withValue(t, 'apiGateway.sourceAddresses', ['203.0.113.0/24', '127.0.0.0/8'])), mappingTemplate));
    expect((await post(inside, `/dev${resource}`, '{"n":12}')).status).toBe(200);
    expect((await takeOne(inside)).body).toBe('{"n":12}');
  });

  it('every message the main gateway queued was the one a test expected: none is left over', async () => {
    expect(await queued(main)).toBe(0);
  });
});
