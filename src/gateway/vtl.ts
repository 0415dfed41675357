/**
 * Renders an API Gateway mapping template with velocityjs, providing the `$input`,
 * `$util` and `$context` variables of the developer guide's "mapping template
 * reference" (docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-mapping-template-reference.html).
 * Pure: template and request in, text out.
 *
 * API Gateway runs templates in Java Velocity, where strings and maps are Java
 * objects; the handlers below give JavaScript values the Java methods real templates
 * call (`$s.length()`, `$s.isEmpty()`, `$map.get('k')`, `$s.replaceAll(regex, x)`).
 *
 * Header names. The guide says `$input.params(x)` searches path, query string and
 * header "in that order" and says nothing about case, and no recording shows what the
 * service does with a name looked up in another case than it was sent. The stand-in
 * takes the stricter reading: a header is found only by the name exactly as the
 * caller sent it (the stand-in keeps the names' case from the wire), in
 * `$input.params('X-Foo')` and `$input.params().header.get('X-Foo')` alike. nginx
 * sends `proxy_set_header X-Mirror-Request-Id ...` in the case written, and the
 * rendered template looks it up by that same configured name (docs/apigw.md).
 *
 * Velocity as API Gateway runs it (Velocity 1.7 with API Gateway's settings) differs
 * from velocityjs's defaults; `ApiGatewayVelocity` (velocityTemplate.ts) configures
 * the library for it. Each difference is a row of test/gateway/fixtures/aws-behaviours.ts.
 */
import { parse } from 'velocityjs';
import { ApiGatewayVelocity } from './velocityTemplate.js';
import { MappingTemplateError } from './gatewayErrors.js';

export interface MappingRequest {
  body: string;
  headers: Record<string, string>;
  query: Record<string, string>;
  path: Record<string, string>;
  requestId: string;
  stage: string;
  resourcePath: string;
  httpMethod: string;
  sourceIp: string;
  accountId?: string;
  apiId?: string;
}

export function renderMappingTemplate(template: string, request: MappingRequest): string {
  const header = { ...request.headers };
  const params = { path: { ...request.path }, querystring: { ...request.query }, header };

  let document: { value: unknown } | undefined;
  const body = () => {
    if (!document) {
      try {
        // An empty body reads as `{}`, as in LocalStack's VTL emulation.
        document = { value: request.body.trim() === '' ? {} : JSON.parse(request.body) };
      } catch (error) {
        throw new MappingTemplateError(`the request body is not JSON: ${(error as Error).message}`);
      }
    }
    return document.value;
  };

  const context = {
    input: {
      // A request without a body reads as `{}` (recorded: LocalStack PR 12413, validated
      // against AWS), so `$util.urlEncode($input.body)` sends `%7B%7D`, never an empty body.
      body: request.body === '' ? '{}' : request.body,
      /** Evaluates a JSONPath expression and returns the result as a JSON string. */
      json: (path: string) => JSON.stringify(selectJsonPath(body(), path)) ?? 'null',
      /** Evaluates a JSONPath expression and returns the value, for `.size()`, `.get()` and the like. */
      path: (path: string) => selectJsonPath(body(), path),
      /** All parameters, or one by name: path, then query string, then header; "" when absent. */
      params: (name?: string) => {
        if (name === undefined) return params;
        return own(params.path, name) ?? own(params.querystring, name) ?? own(header, name) ?? '';
      },
    },
    util: {
      // Recorded: `$util.urlEncode(null)` renders empty and the request goes on.
      urlEncode: (value: unknown) => (value === undefined || value === null ? '' : javaUrlEncode(String(value))),
      urlDecode: (value: unknown) => javaUrlDecode(required(value, 'urlDecode')),
      // Commons Lang returns null for null ("null if null string input"), which renders empty.
      escapeJavaScript: (value: unknown) => (value === undefined || value === null ? null : escapeJavaScript(String(value))),
      parseJson: (value: unknown) => {
        try {
          return JSON.parse(required(value, 'parseJson')) as unknown;
        } catch (error) {
          throw new MappingTemplateError(`$util.parseJson: ${(error as Error).message}`);
        }
      },
      base64Encode: (value: unknown) => Buffer.from(required(value, 'base64Encode'), 'utf8').toString('base64'),
      base64Decode: (value: unknown) => Buffer.from(required(value, 'base64Decode'), 'base64').toString('utf8'),
    },
    context: {
      requestId: request.requestId,
      stage: request.stage,
      resourcePath: request.resourcePath,
      httpMethod: request.httpMethod,
      identity: { sourceIp: request.sourceIp },
      ...(request.accountId !== undefined ? { accountId: request.accountId } : {}),
      ...(request.apiId !== undefined ? { apiId: request.apiId } : {}),
    },
  };
  return new ApiGatewayVelocity(parsedTemplate(template), { escape: false, customMethodHandlers: javaMethods }).renderTemplate(context);
}

/**
 * Parsed templates by their text. Parsing was the stand-in's largest cost per
 * request (a profile of 5,000 callbacks through the sandbox: velocityjs's parser
 * 11% of the process's CPU), and a document has a handful of templates. The tree is
 * only read while rendering (ApiGatewayVelocity's one rewrite of an `#if` condition
 * is idempotent), so one tree serves every render. Bounded: emptied when full.
 */
const parsedTemplates = new Map<string, ReturnType<typeof parse>>();

function parsedTemplate(template: string): ReturnType<typeof parse> {
  let tree = parsedTemplates.get(template);
  if (!tree) {
    if (parsedTemplates.size >= 256) parsedTemplates.clear();
    tree = parse(template);
    parsedTemplates.set(template, tree);
  }
  return tree;
}

/**
 * The `$util` functions with no recording for null (urlDecode, parseJson, base64*)
 * fail the transformation (500), as Java's would with a NullPointerException: the
 * stricter choice, so a template the stand-in accepts is never one AWS refuses.
 */
function required(value: unknown, name: string): string {
  if (value === undefined || value === null) throw new MappingTemplateError(`$util.${name} was given null`);
  return String(value);
}

const own = (map: Record<string, string>, key: string) => (Object.hasOwn(map, key) ? map[key] : undefined);

type MethodCall = { property: string; context: unknown; params: unknown[] };
const method = (uid: string, property: string, applies: (context: unknown) => boolean, resolve: (call: MethodCall) => unknown) => ({
  uid,
  match: (call: MethodCall) => call.property === property && applies(call.context),
  resolve,
});
const isString = (value: unknown): value is string => typeof value === 'string';
const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null;

/** java.lang.String and java.util.Map methods that velocityjs lacks or gets wrong for JavaScript values. */
const javaMethods = [
  method('String.length', 'length', isString, ({ context }) => (context as string).length),
  method('String.isEmpty', 'isEmpty', isString, ({ context }) => (context as string).length === 0),
  method('String.contains', 'contains', isString, ({ context, params }) => (context as string).includes(String(params[0]))),
  method('String.equals', 'equals', isString, ({ context, params }) => context === params[0]),
  // Java's replaceAll takes a regular expression; JavaScript's takes a literal string.
  // The guide's own example is `$util.escapeJavaScript(data).replaceAll("\\'","'")`.
  method('String.replaceAll', 'replaceAll', isString, ({ context, params }) =>
    (context as string).replace(new RegExp(String(params[0]), 'g'), String(params[1]).replace(/\\\$/g, '$$$$')),
  ),
  method('Collection.isEmpty', 'isEmpty', isObject, ({ context }) => Object.keys(context as object).length === 0),
  // Map.get / List.get: exact key (velocityjs would also try the key with its first letter's case flipped).
  method('Map.get', 'get', isObject, ({ context, params }) => {
    const map = context as Record<string | symbol, unknown>;
    const key = params[0];
    return typeof key === 'string' || typeof key === 'number' ? (Object.hasOwn(map, key) ? map[key] : undefined) : undefined;
  }),
];

/**
 * The JSONPath subset mapping templates use: `$`, `.name`, `[0]`, `['name']`.
 * An absent member gives undefined (Velocity's null).
 */
function selectJsonPath(root: unknown, path: string): unknown {
  if (!path.startsWith('$')) throw new MappingTemplateError(`unsupported JSONPath ${JSON.stringify(path)}`);
  const step = /\.([A-Za-z_$][\w$-]*)|\[(\d+)\]|\['([^']*)'\]|\["([^"]*)"\]/y;
  let value = root;
  step.lastIndex = 1;
  while (step.lastIndex < path.length) {
    const match = step.exec(path);
    if (!match) throw new MappingTemplateError(`unsupported JSONPath ${JSON.stringify(path)}`);
    const key = match[2] !== undefined ? Number(match[2]) : (match[1] ?? match[3] ?? match[4])!;
    value = isObject(value) && Object.hasOwn(value, key) ? (value as Record<string | number, unknown>)[key] : undefined;
  }
  return value;
}

/**
 * Java's `URLEncoder.encode(s, "UTF-8")`, which `$util.urlEncode` is ("Converts a
 * string into application/x-www-form-urlencoded format"): letters, digits and
 * `. - * _` stay, space becomes `+`, every other UTF-8 byte becomes `%XY` (upper
 * case). Unlike encodeURIComponent it encodes `! ' ( ) ~` and keeps `*`. Java writes
 * an unpaired surrogate as `?`.
 */
export function javaUrlEncode(text: string): string {
  const wellFormed = text.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '?');
  let out = '';
  for (const byte of Buffer.from(wellFormed, 'utf8')) {
    const c = String.fromCharCode(byte);
    if (/[A-Za-z0-9.\-*_]/.test(c)) out += c;
    else if (c === ' ') out += '+';
    else out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/**
 * Java's `URLDecoder.decode(s, "UTF-8")`: `+` is a space, `%XY` runs are UTF-8 bytes
 * (malformed bytes become U+FFFD), and a `%` not followed by two hex digits is an
 * error (IllegalArgumentException in Java).
 */
export function javaUrlDecode(text: string): string {
  return text.replace(/\+/g, ' ').replace(/(?:%[0-9A-Fa-f]{2})+|%.{0,2}/gs, (run) => {
    if (!/^(%[0-9A-Fa-f]{2})+$/.test(run)) throw new MappingTemplateError(`$util.urlDecode: bad escape ${JSON.stringify(run)}`);
    return Buffer.from(run.replace(/%/g, ''), 'hex').toString('utf8');
  });
}

/**
 * `$util.escapeJavaScript`: "Escapes the characters in a string using JavaScript
 * string rules ... will turn any regular single quotes (') into escaped ones (\')".
 * That is Apache Commons Lang's `StringEscapeUtils.escapeJavaScript` (lang3:
 * `escapeEcmaScript`): `' " \ /` get a backslash, \b \t \n \f \r their short forms,
 * other control characters and everything above U+007F `\uXXXX` (upper-case hex,
 * one escape per UTF-16 unit).
 */
export function escapeJavaScript(text: string): string {
  const short: Record<string, string> = { "'": "\\'", '"': '\\"', '\\': '\\\\', '/': '\\/', '\b': '\\b', '\t': '\\t', '\n': '\\n', '\f': '\\f', '\r': '\\r' };
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    const code = text.charCodeAt(i);
    out += short[c] ?? (code < 0x20 || code > 0x7f ? `\\u${code.toString(16).toUpperCase().padStart(4, '0')}` : c);
  }
  return out;
}
