/**
 * The REST API that turns each callback into an SQS message, as an OpenAPI 3
 * document with the API Gateway extensions. Pure: config and the mapping-template
 * template in, a document out. The CloudFormation template embeds the same
 * document; the gateway stand-in executes it.
 *
 * Field names and semantics: docs.aws.amazon.com/apigateway/latest/developerguide/
 * api-gateway-swagger-extensions.html. For an AWS integration the keys of
 * `responses` are regular expressions matched against the backend's HTTP status
 * code, `default` taking the rest.
 */
import Handlebars from 'handlebars';
import type { MirrorConfig } from '../../config/types.js';
import type { OpenApiDocument } from '../../gateway/openapiDocument.js';
import { requestIdAttribute, probeAttribute, probeHeader } from '../../wire/contract.js';
import { vendorPreset } from '../../vendors/index.js';


/** The media types a JSON callback may arrive with; each gets the same template. */
const jsonContentTypes = [
  'application/json',
  'application/json; charset=utf-8',
  'application/json;charset=utf-8',
  'application/json; charset=UTF-8',
  'application/json;charset=UTF-8',
] as const;

const bodyValidator = 'body-only';
export const successPattern = '2\\d{2}';
export const serverErrorPattern = '5\\d{2}';

export interface OpenApiOptions {
  /**
   * The execution role API Gateway assumes to call SQS: an ARN, or a CloudFormation
   * intrinsic (`{ 'Fn::GetAtt': [...] }`) when the document is embedded in a template.
   */
  credentials?: unknown;
  /** Same, for the integration URI (`arn:aws:apigateway:{region}:sqs:path/{account}/{queue}`). */
  integrationUri?: unknown;
}

/** Name of the execution role (and the prefix of everything else `render apigw` names). */
export function roleName(config: MirrorConfig): string {
  return `mirror-${config.name.replace(/_/g, '-')}-apigw-to-sqs`;
}

function renderMappingTemplateSource(config: MirrorConfig, template: string): string {
  return Handlebars.compile(template, { noEscape: true, strict: true })({
    comment: `Rendered by mirror render apigw for ${config.vendor} callbacks; edit the config, not this text.`,
    requestIdHeader: config.mirror.requestIdHeader,
    requestIdAttribute,
    probeHeader,
    probeAttribute,
  });
}

export function renderOpenApi(config: MirrorConfig, mappingTemplate: string, options: OpenApiOptions = {}): OpenApiDocument & Record<string, unknown> {
  const { apiGateway, sqs } = config;
  const vendor = vendorPreset(config.vendor);
  const region = apiGateway.region;
  const partition = region.startsWith('cn-') ? 'aws-cn' : region.includes('-gov-') ? 'aws-us-gov' : 'aws';
  const requestTemplate = renderMappingTemplateSource(config, mappingTemplate);
  const vendorSchema = apiGateway.requestValidation === 'vendor-schema';
  const modelName = vendorSchema ? 'VendorCallback' : 'JsonObject';
  const model = vendorSchema
    ? vendor.requestModel
    : { $schema: 'http://json-schema.org/draft-04/schema#', title: 'JsonObject', type: 'object' };
  // An API key lives in a root-only file nginx includes; the method then requires it.
  const apiKey = apiGateway.apiKeyFile !== undefined;

  const document: OpenApiDocument & Record<string, unknown> = {
    openapi: '3.0.1',
    info: {
      title: `mirror-${config.name}`,
      version: '1',
      description: `${vendor.displayName} callbacks from nginx (mirror) into SQS queue ${sqs.queue.name}. Rendered by mirror render apigw.`,
    },
    paths: {
      [apiGateway.resourcePath]: {
        post: {
          operationId: `${config.name}Callback`,
          parameters: [
            { name: config.mirror.requestIdHeader, in: 'header', required: false, schema: { type: 'string' } },
            { name: probeHeader, in: 'header', required: false, schema: { type: 'string' } },
          ],
          requestBody: {
            required: true,
            content: { 'application/json': { schema: { $ref: `#/components/schemas/${modelName}` } } },
          },
          responses: {
            '200': { description: 'queued', content: { 'application/json': { schema: { $ref: '#/components/schemas/Empty' } } } },
            '500': { description: 'SQS refused the message (configuration): the vendor retries' },
            '503': { description: 'SQS failed (service): the vendor retries' },
          },
          'x-amazon-apigateway-request-validator': bodyValidator,
          ...(apiKey ? { security: [{ api_key: [] }] } : {}),
          'x-amazon-apigateway-integration': {
            type: 'aws',
            httpMethod: 'POST',
            // The region of the URI is where API Gateway sends: the queue's, which may differ from the API's
            // (a config rule only warns about that); the API's region would find no such queue.
            uri: options.integrationUri ?? `arn:${partition}:apigateway:${sqs.queue.region ?? region}:sqs:path/${sqs.queue.accountId}/${sqs.queue.name}`,
            credentials: options.credentials ?? `arn:${partition}:iam::${sqs.queue.accountId}:role/${roleName(config)}`,
            requestParameters: { 'integration.request.header.Content-Type': "'application/x-www-form-urlencoded'" },
            requestTemplates: Object.fromEntries(jsonContentTypes.map((type) => [type, requestTemplate])),
            // NEVER: a body no template can turn into SendMessage gets 415, never a half-formed request to SQS.
            passthroughBehavior: 'NEVER',
            responses: {
              // The seed's choice: 200 with an empty body; the vendor needs only the status.
              [successPattern]: { statusCode: '200', responseTemplates: { 'application/json': '## empty body\n' } },
              // SQS server errors: retryable, say so.
              [serverErrorPattern]: { statusCode: '503', responseTemplates: { 'application/json': '{"message":"the queue is unavailable; retry"}' } },
              // Everything else SQS answered (4xx: AccessDenied, InvalidParameterValue, ...) is a lost
              // callback unless the vendor retries: never 200.
              default: { statusCode: '500', responseTemplates: { 'application/json': '{"message":"the callback was not queued; retry"}' } },
            },
          },
        },
      },
    },
    components: {
      schemas: {
        Empty: { $schema: 'http://json-schema.org/draft-04/schema#', title: 'Empty', type: 'object' },
        [modelName]: model,
      },
      ...(apiKey ? { securitySchemes: { api_key: { type: 'apiKey', name: 'x-api-key', in: 'header' } } } : {}),
    },
    'x-amazon-apigateway-request-validators': {
      [bodyValidator]: { validateRequestBody: true, validateRequestParameters: false },
    },
    ...(apiGateway.sourceAddresses?.length
      ? {
          'x-amazon-apigateway-policy': {
            Version: '2012-10-17',
            Statement: [
              { Effect: 'Allow', Principal: '*', Action: 'execute-api:Invoke', Resource: 'execute-api:/*' },
              {
                Effect: 'Deny',
                Principal: '*',
                Action: 'execute-api:Invoke',
                Resource: 'execute-api:/*',
                Condition: { NotIpAddress: { 'aws:SourceIp': apiGateway.sourceAddresses } },
              },
            ],
          },
        }
      : {}),
  };
  return document;
}
