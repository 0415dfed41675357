/**
 * The part of an API Gateway OpenAPI 3 document (with its extensions) that the
 * stand-in executes. Field names are the service's own:
 * docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-swagger-extensions.html
 */
interface IntegrationResponse {
  statusCode: string;
  responseTemplates?: Record<string, string>;
  responseParameters?: Record<string, string>;
}

export interface Integration {
  type: string;
  httpMethod?: string;
  uri: unknown;
  credentials?: unknown;
  requestParameters?: Record<string, string>;
  requestTemplates?: Record<string, string>;
  passthroughBehavior?: 'WHEN_NO_MATCH' | 'WHEN_NO_TEMPLATES' | 'NEVER';
  responses?: Record<string, IntegrationResponse & { selectionPattern?: string }>;
}

export interface Operation {
  operationId?: string;
  responses?: Record<string, unknown>;
  'x-amazon-apigateway-integration'?: Integration;
  'x-amazon-apigateway-request-validator'?: string;
  requestBody?: { content?: Record<string, { schema?: SchemaRef }>; required?: boolean };
  security?: Record<string, string[]>[];
  parameters?: { name: string; in: string; required?: boolean; schema?: Record<string, unknown> }[];
}

type SchemaRef = { $ref: string } | Record<string, unknown>;

export interface OpenApiDocument {
  openapi: string;
  info?: { title: string; version: string; description?: string };
  paths: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, Record<string, unknown>>; securitySchemes?: Record<string, unknown> };
  'x-amazon-apigateway-request-validators'?: Record<string, { validateRequestBody?: boolean; validateRequestParameters?: boolean }>;
  'x-amazon-apigateway-request-validator'?: string;
}

/** `arn:aws:apigateway:{region}:sqs:path/{account}/{queue}` to `/{account}/{queue}`. */
export function sqsPathOf(uri: unknown): string | undefined {
  if (typeof uri !== 'string') return undefined;
  const match = /^arn:aws[a-z-]*:apigateway:[a-z0-9-]+:sqs:path\/(.+)$/.exec(uri);
  return match ? `/${match[1]}` : undefined;
}
