/**
 * A local API Gateway: an HTTPS server that executes the OpenAPI document `mirror
 * render apigw` writes, for the execute-api host (`/{stage}` prefix) and the
 * custom domain (base path mapping), and delivers to the SQS emulator.
 *
 * It follows the documented behaviour of a REST API with an AWS (SQS) integration:
 * 403 `Missing Authentication Token` for an unknown stage, base path, resource or
 * method; 403 `Forbidden` for a host it does not serve or a missing API key;
 * 400 `Invalid request body` when the request validator rejects the body; 415
 * `Unsupported Media Type` when no request template matches and passthrough is
 * NEVER; the request template rendered by a VTL engine; the integration request
 * decoded as real SQS decodes the query protocol (fauxqs speaks only JSON), with
 * the rules fauxqs does not enforce; integration responses chosen by
 * selectionPattern against the SQS status code.
 *
 * Where it differs from the real service (docs/apigw.md, "Where the gateway stand-in differs from API Gateway"): no
 * SigV4 to SQS and no IAM (AccessDenied cannot happen here), no throttling or
 * usage-plan limits, API keys checked for presence only, the execution log omits
 * bodies (they hold phone numbers), and TLS uses the test CA.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BlockList, isIPv4, isIPv6 } from 'node:net';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import ajvDraft04 from 'ajv-draft-04';
import type { ValidateFunction } from 'ajv';
import { decodeSendMessage, sendMessageResponseJson, sendMessageResponseXml, sqsErrorXml } from './sqsQuery.js';
import { renderMappingTemplate } from './vtl.js';
import { sqsPathOf, type Integration, type OpenApiDocument, type Operation } from './openapiDocument.js';

export interface StandInOptions {
  document: OpenApiDocument;
  stage: string;
  executeApiHost: string;
  customDomain?: { host: string; basePath: string };
  tls: { cert: string; key: string };
  sqs: {
    client: SQSClient;
    /** The emulator's URL for a queue named in the integration path, or undefined. */
    queueUrl(accountId: string, name: string): Promise<string | undefined>;
  };
  /** API Gateway execution-log lines (bodies omitted). */
  log?: (line: string) => void;
  port?: number;
}

export interface StandIn {
  port: number;
  stop(): Promise<void>;
}

interface Answer {
  status: number;
  body: string;
  contentType?: string;
  /** `x-amzn-ErrorType` of a gateway response. */
  errorType?: string;
}

/**
 * Gateway responses, byte for byte as the service sends them by default. Their
 * spacing differs: the 403s come from the default `{"message":$context.error.messageString}`
 * template, while the validation, media-type and internal errors are answered as
 * `{"message": "..."}` with a space (what vendors and SDK issues quote). Compare
 * bodies as JSON where it matters.
 */
export const gatewayResponses = {
  missingAuthenticationToken: { status: 403, body: '{"message":"Missing Authentication Token"}', errorType: 'MissingAuthenticationTokenException' },
  forbidden: { status: 403, body: '{"message":"Forbidden"}', errorType: 'ForbiddenException' },
  badRequestBody: { status: 400, body: '{"message": "Invalid request body"}', errorType: 'BadRequestException' },
  unsupportedMediaType: { status: 415, body: '{"message": "Unsupported Media Type"}', errorType: 'UnsupportedMediaTypeException' },
  internalServerError: { status: 500, body: '{"message": "Internal server error"}', errorType: 'InternalServerErrorException' },
} as const satisfies Record<string, Answer>;

const missingToken = (): Answer => gatewayResponses.missingAuthenticationToken;

export async function startStandIn(options: StandInOptions): Promise<StandIn> {
  // API Gateway models are JSON Schema draft 4. A CommonJS default export, as NodeNext sees it.
  const ajv = new ajvDraft04.default({ allErrors: false, strict: false });
  const handle = async (req: IncomingMessage, body: Buffer): Promise<Answer> => {
    const requestId = randomUUID();
    const log = (text: string) => options.log?.(`${new Date().toISOString()} (${requestId}) ${text}`);
    const answer = await route(req, body, requestId, log);
    // A gateway response (no method ran, or the method refused the request) goes in
    // the log with its body, as $context.error.message does in an access log.
    if (answer.errorType) log(`Gateway response: ${answer.errorType} ${answer.status} ${answer.body} for ${req.method ?? ''} ${new URL(req.url ?? '/', 'https://stand-in').pathname}`);
    log(`Method completed with status: ${answer.status}`);
    return answer;
  };

  const route = async (req: IncomingMessage, body: Buffer, requestId: string, log: (t: string) => void): Promise<Answer> => {
    const host = (req.headers.host ?? '').replace(/:\d+$/, '').toLowerCase();
    const url = new URL(req.url ?? '/', 'https://stand-in');
    let resourcePath: string | undefined;
    if (host === options.executeApiHost) {
      const [, stage, ...rest] = url.pathname.split('/');
      if (stage !== options.stage) return missingToken();
      resourcePath = `/${rest.join('/')}`;
    } else if (options.customDomain && host === options.customDomain.host) {
      const base = options.customDomain.basePath ? `/${options.customDomain.basePath}` : '';
      if (base && url.pathname !== base && !url.pathname.startsWith(`${base}/`)) return missingToken();
      resourcePath = url.pathname.slice(base.length) || '/';
    } else {
      log(`Host ${host} is not served here`);
      return gatewayResponses.forbidden;
    }
    const method = (req.method ?? 'GET').toLowerCase();
    const operation = options.document.paths[resourcePath]?.[method];
    const integration = operation?.['x-amazon-apigateway-integration'];
    if (!operation || !integration) return missingToken();
    const denial = resourcePolicyDenial(options.document, {
      sourceIp: req.socket.remoteAddress ?? '',
      arn: invokeArn(options.executeApiHost, options.document, operation, options.stage, method, resourcePath),
    });
    if (denial) {
      log(`Resource policy: ${denial.body}`);
      return denial;
    }
    // Presence only: the stand-in knows no key values (docs/apigw.md).
    if (operation.security?.some((s) => 'api_key' in s) && !req.headers['x-api-key']) return gatewayResponses.forbidden;

    // API Gateway treats a request without Content-Type as application/json.
    const contentType = (req.headers['content-type'] as string | undefined) ?? 'application/json';
    const text = body.toString('utf8');
    const invalid = validateBody(ajv, options.document, operation, contentType, text);
    if (invalid) {
      log(`Request body does not match model schema for content type ${contentType}: ${invalid}`);
      return gatewayResponses.badRequestBody;
    }
    const template = selectTemplate(integration, contentType);
    if (template === undefined && integration.passthroughBehavior !== 'WHEN_NO_MATCH') {
      log(`Unsupported Media Type: no mapping template for ${contentType} and passthrough is ${integration.passthroughBehavior ?? 'WHEN_NO_MATCH'}`);
      return gatewayResponses.unsupportedMediaType;
    }
    const headers = headersAsSent(req.rawHeaders);
    const query = Object.fromEntries(url.searchParams);
    const integrationBody =
      template === undefined
        ? text
        : renderMappingTemplate(template, {
            body: text,
            headers,
            query,
            path: {},
            requestId,
            stage: options.stage,
            resourcePath,
            httpMethod: method.toUpperCase(),
            sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
          });
    log(`Method request body before transformations: [${body.length} bytes omitted]`);
    const endpoint = await callSqs(integration, integrationBody, requestId, log);
    return integrationResponse(integration, endpoint, requestId);
  };

  const callSqs = async (integration: Integration, integrationBody: string, requestId: string, log: (t: string) => void): Promise<Answer> => {
    const path = sqsPathOf(integration.uri);
    if (!path) return gatewayResponses.internalServerError;
    const integrationContentType = literalHeader(integration, 'Content-Type');
    log(`Endpoint request URI: https://sqs/${path.slice(1)}`);
    const decoded = decodeSendMessage({ path, contentType: integrationContentType, body: integrationBody });
    if (!decoded.ok) {
      const xml = sqsErrorXml(decoded, requestId);
      log(`Endpoint response body before transformations: ${xml}`);
      return { status: decoded.status, body: xml, contentType: 'text/xml' };
    }
    const { input } = decoded;
    const queueUrl = await options.sqs.queueUrl(input.queueAccountId, input.queueName);
    if (!queueUrl) {
      const error = { status: 400, code: 'AWS.SimpleQueueService.NonExistentQueue', message: 'The specified queue does not exist for this wsdl version.' };
      const xml = sqsErrorXml(error, requestId);
      log(`Endpoint response body before transformations: ${xml}`);
      return { status: 400, body: xml, contentType: 'text/xml' };
    }
    try {
      const out = await options.sqs.client.send(
        new SendMessageCommand({
          QueueUrl: queueUrl,
          MessageBody: input.messageBody,
          ...(Object.keys(input.messageAttributes).length > 0
            ? {
                MessageAttributes: Object.fromEntries(
                  Object.entries(input.messageAttributes).map(([name, a]: [string, { dataType: string; stringValue?: string; binaryValue?: Buffer }]) => [
                    name,
                    { DataType: a.dataType, ...(a.stringValue !== undefined ? { StringValue: a.stringValue } : {}), ...(a.binaryValue ? { BinaryValue: a.binaryValue } : {}) },
                  ]),
                ),
              }
            : {}),
          ...(input.delaySeconds !== undefined ? { DelaySeconds: input.delaySeconds } : {}),
        }),
      );
      const result = { messageId: out.MessageId ?? '', md5OfMessageBody: out.MD5OfMessageBody ?? '', ...(out.MD5OfMessageAttributes ? { md5OfMessageAttributes: out.MD5OfMessageAttributes } : {}) };
      log('Endpoint response body before transformations: SendMessageResponse');
      // SQS answers API Gateway in JSON unless the integration asks for XML with an
      // Accept header (recorded: LocalStack's test_apigateway_sqs.py,
      // test_sqs_request_and_response_xml_templates_integration), so a response
      // template can read `$input.path('$.SendMessageResponse.SendMessageResult.MessageId')`.
      return /xml/i.test(literalHeader(integration, 'Accept') ?? '')
        ? { status: 200, body: sendMessageResponseXml(result, requestId), contentType: 'text/xml' }
        : { status: 200, body: sendMessageResponseJson(result, requestId), contentType: 'application/json' };
    } catch (error) {
      const e = error as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
      const status = e.$metadata?.httpStatusCode ?? 500;
      const xml = sqsErrorXml({ status, code: e.name ?? 'InternalError', message: e.message ?? '' }, requestId);
      log(`Endpoint response body before transformations: ${xml}`);
      return { status, body: xml, contentType: 'text/xml' };
    }
  };

  const server: Server = createServer({ cert: options.tls.cert, key: options.tls.key }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      handle(req, Buffer.concat(chunks))
        .then((answer) => send(res, answer))
        .catch((error: unknown) => {
          // A template that cannot render (MappingTemplateError) is API Gateway's
          // "Execution failed due to configuration error: Unable to transform request".
          options.log?.(`${new Date().toISOString()} stand-in failure: ${error instanceof Error ? error.message : String(error)}`);
          send(res, gatewayResponses.internalServerError);
        });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function send(res: ServerResponse, answer: Answer): void {
  res.writeHead(answer.status, {
    'content-type': answer.contentType ?? 'application/json',
    'content-length': Buffer.byteLength(answer.body),
    'x-amzn-requestid': randomUUID(),
    ...(answer.errorType ? { 'x-amzn-errortype': answer.errorType } : {}),
  });
  res.end(answer.body);
}

/**
 * The request's headers with their names as the caller wrote them (Node lower-cases
 * `req.headers`; `rawHeaders` keeps the wire's case), repeated names joined with a
 * comma. Mapping templates look names up exactly (vtl.ts says why).
 */
function headersAsSent(raw: string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    headers[name] = Object.hasOwn(headers, name) ? `${headers[name]},${raw[i + 1]!}` : raw[i + 1]!;
  }
  return headers;
}

/** `'application/x-www-form-urlencoded'` from `integration.request.header.Content-Type`. */
function literalHeader(integration: Integration, name: string): string | undefined {
  const entry = Object.entries(integration.requestParameters ?? {}).find(([k]) => k.toLowerCase() === `integration.request.header.${name.toLowerCase()}`);
  const value = entry?.[1];
  return value && /^'.*'$/.test(value) ? value.slice(1, -1) : undefined;
}

/**
 * The template for a Content-Type: the key that equals it, ignoring spaces and case.
 * How the service matches a Content-Type with parameters is not documented or
 * recorded, so the stand-in takes the stricter reading: a parameter no key lists
 * (`charset=euc-kr`) is 415 here, never served here and refused there
 * (docs/apigw.md; pinned in test/gateway/fixtures/aws-behaviours.ts).
 */
function selectTemplate(integration: Integration, contentType: string): string | undefined {
  const templates = integration.requestTemplates ?? {};
  const wanted = contentType.toLowerCase().replace(/\s+/g, '');
  return Object.entries(templates).find(([k]) => k.toLowerCase().replace(/\s+/g, '') === wanted)?.[1];
}

const compiled = new WeakMap<object, ValidateFunction>();

function validateBody(ajv: InstanceType<typeof ajvDraft04.default>, document: OpenApiDocument, operation: Operation, contentType: string, text: string): string | undefined {
  const name = operation['x-amazon-apigateway-request-validator'] ?? document['x-amazon-apigateway-request-validator'];
  const validator = name ? document['x-amazon-apigateway-request-validators']?.[name] : undefined;
  if (!validator?.validateRequestBody) return undefined;
  // "If no matching content type is found, request validation is not performed. To use
  // the same model regardless of the content type, set the content type for your data
  // model to $default." (developerguide/api-gateway-method-request-validation.html)
  // Falling back to any other model would answer 400 where the service answers 415.
  const content = operation.requestBody?.content ?? {};
  const wanted = contentType.trim().toLowerCase().replace(/\s+/g, '');
  const entries = Object.entries(content);
  // The same strict Content-Type match as selectTemplate, then the $default model.
  const entry = entries.find(([k]) => k.toLowerCase().replace(/\s+/g, '') === wanted) ?? entries.find(([k]) => k === '$default');
  let schema = entry?.[1].schema as Record<string, unknown> | undefined;
  if (!schema) return undefined;
  if (typeof schema.$ref === 'string') schema = document.components?.schemas?.[schema.$ref.split('/').at(-1)!];
  if (!schema) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'body is not JSON';
  }
  let check = compiled.get(schema);
  if (!check) {
    const { $schema: _ignored, ...rest } = schema;
    const fresh = ajv.compile(rest);
    compiled.set(schema, fresh);
    check = fresh;
  }
  return check(value) ? undefined : ajv.errorsText(check.errors);
}

/**
 * For AWS service integrations the selection pattern (in OpenAPI, the key of
 * `responses`) is matched against the backend's HTTP status code; the `default`
 * response takes what no pattern matches.
 */
function integrationResponse(integration: Integration, endpoint: Answer, requestId: string): Answer {
  const responses = Object.entries(integration.responses ?? {});
  const status = String(endpoint.status);
  const chosen =
    responses.find(([key, r]) => key !== 'default' && new RegExp(`^(?:${r.selectionPattern ?? key})$`).test(status))?.[1] ??
    integration.responses?.default;
  if (!chosen) return gatewayResponses.internalServerError;
  const template = chosen.responseTemplates?.['application/json'];
  const body =
    template === undefined
      ? endpoint.body
      : template.trim() === ''
        ? ''
        : renderMappingTemplate(template, { body: endpoint.body, headers: {}, query: {}, path: {}, requestId, stage: '', resourcePath: '', httpMethod: 'POST', sourceIp: '' });
  return { status: Number(chosen.statusCode), body, contentType: 'application/json' };
}

interface PolicyStatement {
  Effect?: string;
  Principal?: unknown;
  Action?: string | string[];
  Resource?: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

/**
 * `arn:aws:execute-api:{region}:{account}:{apiId}/{stage}/{METHOD}{path}`, the resource a
 * resource policy names, with the account masked as API Gateway masks it in its answer.
 */
function invokeArn(executeApiHost: string, document: OpenApiDocument, operation: Operation, stage: string, method: string, resourcePath: string): string {
  const [apiId, , region] = executeApiHost.split('.');
  const account = sqsPathOf(operation['x-amazon-apigateway-integration']?.uri)?.split('/')[1] ?? document.info?.title ?? '';
  return `arn:aws:execute-api:${region}:********${account.slice(-4)}:${apiId}/${stage}/${method.toUpperCase()}${resourcePath}`;
}

/**
 * The API's resource policy (`x-amazon-apigateway-policy`) for an anonymous caller:
 * an explicit Deny wins, then an Allow admits, otherwise the implicit deny. Only the
 * conditions render apigw writes are understood (IpAddress / NotIpAddress on
 * aws:SourceIp); a statement with any other condition is reported and not applied.
 * Answer text: the service's 403 for a resource-policy denial
 * (repost.aws/knowledge-center/api-gateway-resource-policy-access), capital M and all.
 */
function resourcePolicyDenial(document: OpenApiDocument, request: { sourceIp: string; arn: string }): Answer | undefined {
  const policy = (document as { 'x-amazon-apigateway-policy'?: { Statement?: PolicyStatement | PolicyStatement[] } })['x-amazon-apigateway-policy'];
  if (!policy?.Statement) return undefined;
  const statements = [policy.Statement].flat();
  const resource = `execute-api:/${request.arn.split('/').slice(1).join('/')}`;
  const applies = (s: PolicyStatement) =>
    [s.Action ?? []].flat().some((a) => a === '*' || a === 'execute-api:*' || a === 'execute-api:Invoke') &&
    [s.Resource ?? []].flat().some((r) => globMatches(r.startsWith('arn:') ? `execute-api:/${r.split('/').slice(1).join('/')}` : r, resource)) &&
    conditionHolds(s.Condition, request.sourceIp);
  const deny = (explicit: boolean): Answer => ({
    status: 403,
    body: JSON.stringify({ Message: `User: anonymous is not authorized to perform: execute-api:Invoke on resource: ${request.arn}${explicit ? ' with an explicit deny' : ''}` }),
    errorType: 'AccessDeniedException',
  });
  if (statements.some((s) => s.Effect === 'Deny' && applies(s))) return deny(true);
  if (statements.some((s) => s.Effect === 'Allow' && applies(s))) return undefined;
  return deny(false);
}

function globMatches(pattern: string, value: string): boolean {
  const regex = new RegExp(`^${pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  return regex.test(value);
}

function conditionHolds(condition: PolicyStatement['Condition'], sourceIp: string): boolean {
  if (!condition) return true;
  const ip = sourceIp.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, '');
  return Object.entries(condition).every(([operator, keys]) => {
    const cidrs = [keys['aws:SourceIp'] ?? []].flat();
    if (Object.keys(keys).some((k) => k !== 'aws:SourceIp') || (operator !== 'IpAddress' && operator !== 'NotIpAddress')) {
      throw new Error(`resource policy condition ${operator} ${Object.keys(keys).join(',')} is not supported by the stand-in`);
    }
    const list = new BlockList();
    for (const cidr of cidrs) {
      const [address, bits] = cidr.split('/');
      const type = isIPv4(address!) ? 'ipv4' : 'ipv6';
      if (bits === undefined) list.addAddress(address!, type);
      else list.addSubnet(address!, Number(bits), type);
    }
    const inside = isIPv4(ip) ? list.check(ip, 'ipv4') : isIPv6(ip) ? list.check(ip, 'ipv6') : false;
    return operator === 'IpAddress' ? inside : !inside;
  });
}
