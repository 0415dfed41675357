/**
 * The stand-in against every row of the AWS behaviour table
 * (test/gateway/fixtures/aws-behaviours.ts): templates through the VTL engine, form
 * bodies through the SQS decoder, and requests through the HTTPS stand-in into the
 * SQS emulator. A row either matches what AWS recorded, or pins the stand-in's
 * documented (stricter) answer where nothing was recorded.
 */
import { request as httpsRequest } from 'node:https';
import { DeleteMessageCommand, GetQueueAttributesCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/config/validate.js';
import { MappingTemplateError } from '../../src/gateway/gatewayErrors.js';
import type { OpenApiDocument } from '../../src/gateway/openapiDocument.js';
import { decodeSendMessage } from '../../src/gateway/sqsQuery.js';
import { startStandIn, type StandIn } from '../../src/gateway/standIn.js';
import { renderMappingTemplate } from '../../src/gateway/vtl.js';
import { renderOpenApi } from '../../src/render/apigw/openapi.js';
import { loadTemplates } from '../../src/render/templates.js';
import { createTestCa, type TestCa } from '../../src/sandbox/testCa.js';
import { startFauxqs, type Fauxqs } from '../../src/sqs/fauxqs.js';
import { exampleConfig } from '../support/config.js';
import { awsBehaviours, type GatewayRow, type SqsRow, type TemplateRow } from './fixtures/aws-behaviours.js';

const executeApiHost = 'a1b2c3d4e5.execute-api.ap-northeast-2.amazonaws.com';
const resource = '/kakao-at-result';

const templateRows = awsBehaviours.filter((r): r is TemplateRow => r.kind === 'template');
const sqsRows = awsBehaviours.filter((r): r is SqsRow => r.kind === 'sqs');
const gatewayRows = awsBehaviours.filter((r): r is GatewayRow => r.kind === 'gateway');

describe('the behaviour table', () => {
  it('names a source for every row, and every id once', () => {
    expect(awsBehaviours.length).toBeGreaterThanOrEqual(20);
    for (const row of awsBehaviours) expect(row.source.url ?? row.source.path, row.id).toBeTruthy();
    expect(new Set(awsBehaviours.map((r) => r.id)).size).toBe(awsBehaviours.length);
  });
});

describe('mapping templates (VTL as API Gateway runs it)', () => {
  it.each(templateRows.map((r) => [r.id, r] as const))('%s', (_id, row) => {
    const render = () =>
      renderMappingTemplate(row.template, {
        body: row.body ?? '{}',
        headers: row.headers ?? {},
        query: {},
        path: {},
        requestId: 'c0ffee00-1111-2222-3333-444455556666',
        stage: 'dev',
        resourcePath: resource,
        httpMethod: 'POST',
        sourceIp: '203.0.113.7',
      });
    const expected = row.standIn ?? row.aws;
    if ('error' in expected) expect(render).toThrow(MappingTemplateError);
    else expect(render()).toBe(expected.text);
  });
});

describe('integration requests as SQS decodes them', () => {
  it.each(sqsRows.map((r) => [r.id, r] as const))('%s', (_id, row) => {
    const decoded = decodeSendMessage({ path: '/123456789012/kakao-at-result', contentType: 'application/x-www-form-urlencoded', body: row.form });
    if ('code' in row.aws) {
      expect(decoded.ok).toBe(false);
      if (!decoded.ok) expect(decoded.code).toBe(row.aws.code);
      return;
    }
    expect(decoded.ok, JSON.stringify(decoded)).toBe(true);
    if (decoded.ok) expect(Object.fromEntries(Object.entries(decoded.input.messageAttributes).map(([k, v]) => [k, v.stringValue]))).toEqual(row.aws.attributes);
  });
});

let ca: TestCa;
let fauxqs: Fauxqs;
let sqs: SQSClient;
let rendered: OpenApiDocument;
const standIns: StandIn[] = [];

beforeAll(async () => {
  const [madeCa, startedFauxqs, templates] = await Promise.all([createTestCa([executeApiHost]), startFauxqs(), loadTemplates('apigw')]);
  ca = madeCa;
  fauxqs = startedFauxqs;
  sqs = fauxqs.client();
  const config = validateConfig(exampleConfig());
  if (!config.ok) throw new Error(JSON.stringify(config.issues));
  rendered = renderOpenApi(config.config, templates.files['sendMessage.vtl']!);
}, 60_000);

afterAll(async () => {
  await Promise.allSettled(standIns.map((s) => s.stop()));
  sqs?.destroy();
  await Promise.allSettled([fauxqs?.stop(), ca?.remove()]);
});

/** The rendered document with the row's integration changes. */
function documentFor(row: GatewayRow): OpenApiDocument {
  const document = structuredClone(rendered);
  const operation = document.paths[resource]!.post!;
  const integration = operation['x-amazon-apigateway-integration']!;
  const change = row.integration ?? {};
  if (change.requestTemplate !== undefined) {
    integration.requestTemplates = Object.fromEntries(Object.keys(integration.requestTemplates ?? {}).map((k) => [k, change.requestTemplate!]));
  }
  if (change.responseTemplate !== undefined) {
    const ok = Object.entries(integration.responses ?? {}).find(([, r]) => r.statusCode === '200')![1];
    ok.responseTemplates = change.responseTemplate === '' ? {} : { 'application/json': change.responseTemplate };
  }
  if (change.accept) integration.requestParameters = { ...integration.requestParameters, 'integration.request.header.Accept': `'${change.accept}'` };
  if (change.validator === false) {
    delete (operation as Record<string, unknown>)['x-amazon-apigateway-request-validator'];
    delete (document as unknown as Record<string, unknown>)['x-amazon-apigateway-request-validator'];
  }
  return document;
}

function post(port: number, row: GatewayRow): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: `/dev${resource}`,
        ca: ca.caPem,
        servername: executeApiHost,
        headers: { host: executeApiHost, 'content-type': row.request.contentType ?? 'application/json', ...row.request.headers, 'content-length': Buffer.byteLength(row.request.body) },
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers }));
      },
    );
    req.on('error', reject);
    req.end(row.request.body);
  });
}

describe('requests through the stand-in into SQS', () => {
  it.each(gatewayRows.map((r, i) => [r.id, r, i] as const))('%s', async (_id, row, index) => {
    const queueUrl = await fauxqs.createQueue(`behaviour-${index}`);
    const standIn = await startStandIn({
      document: documentFor(row),
      stage: 'dev',
      executeApiHost,
      tls: { cert: ca.cert, key: ca.key },
      sqs: { client: sqs, queueUrl: async (account, queue) => (account === '123456789012' && queue === 'kakao-at-result' ? queueUrl : undefined) },
    });
    standIns.push(standIn);
    const reply = await post(standIn.port, row);
    expect(reply.status, reply.body).toBe(row.aws.status);
    if (row.aws.body !== undefined) expect(reply.body).toBe(row.aws.body);
    if (row.aws.bodyPattern !== undefined) expect(reply.body).toMatch(new RegExp(row.aws.bodyPattern));
    if (row.aws.errorType !== undefined) expect(reply.headers['x-amzn-errortype']).toBe(row.aws.errorType);
    // The stand-in answers only after SendMessage returned, so what landed is there now.
    if (row.aws.landed === undefined) {
      const counts = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }));
      expect(Number(counts.Attributes?.ApproximateNumberOfMessages) + Number(counts.Attributes?.ApproximateNumberOfMessagesNotVisible)).toBe(0);
      return;
    }
    const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, MessageAttributeNames: ['All'], WaitTimeSeconds: 1 }));
    expect(got.Messages ?? []).toHaveLength(1);
    const message = got.Messages![0]!;
    await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle! }));
    expect(message.Body).toBe(row.aws.landed);
    if (row.aws.landedAttributes) {
      expect(Object.fromEntries(Object.entries(message.MessageAttributes ?? {}).map(([k, v]) => [k, v.StringValue]))).toEqual(row.aws.landedAttributes);
    }
  });
});
