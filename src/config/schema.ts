/**
 * The one config schema: shape, defaults and descriptions. `mirror init` writes
 * the descriptions as comments; `validateConfig` turns its errors into key paths.
 */
import { z } from 'zod';
import { phases } from './phases.js';
import {
  durationPattern,
  filePathPattern,
  headerNamePattern,
  hostNamePattern,
  parseResolverAddress,
  parseUpstreamUrl,
  resourcePathPattern,
  sizePattern,
  uriPathPattern,
} from './nginxValues.js';
import { vendorIds } from '../vendors/index.js';
import { sandboxKeysSchema } from './sandboxKeys.js';

const hostName = (what: string) =>
  z.string().regex(hostNamePattern, { error: `expected ${what}: letters, digits, dots and hyphens only` });
const duration = z
  .string()
  .regex(durationPattern, { error: 'expected an nginx duration such as 500ms, 1s, 10s or 1m30s' });
const filePath = z
  .string()
  .regex(filePathPattern, { error: 'expected an absolute file path of letters, digits and . _ - / @ + = ,' });

const stateFile = (fallback: string) =>
  z.string().min(1).regex(/^[^\0\n]+$/, { error: 'expected a file path' }).default(fallback);

export const configSchema = z.strictObject({
  vendor: z.enum(vendorIds).describe('vendor preset: sample callbacks and the body fields that identify one'),
  name: z
    .string()
    .regex(/^[a-z][a-z0-9_]{0,31}$/, { error: 'expected lower-case letters, digits and _ (starting with a letter)' })
    .optional()
    .describe('names the nginx variables, internal location and files (default: the vendor)'),
  callback: z.strictObject({
    path: z
      .string()
      .regex(uriPathPattern, { error: 'expected a URI path starting with / (no %, ;, $, quotes, spaces or #)' })
      .describe('location on the existing nginx server that receives the callbacks'),
    upstream: z
      .string()
      .refine((v) => parseUpstreamUrl(v) !== undefined, {
        error: 'expected http://host[:port] or https://host[:port] with no path (host: a name, an IP or an upstream block)',
      })
      .describe('where nginx proxies callbacks today (the origin)'),
    bodyBufferSize: z
      .string()
      .regex(sizePattern, { error: 'expected an nginx size such as 16k or 64k' })
      .default('64k')
      .describe('client_body_buffer_size: above the largest callback the vendor sends and at most 1m (SQS); a larger body is logged empty and verify counts it "body not checked"'),
    trustedCertificate: filePath
      .default('/etc/ssl/certs/ca-certificates.crt')
      .describe('CA bundle to verify an https origin with (used only when upstream is https)'),
  }).describe('the callback as nginx receives it today'),
  apiGateway: z.strictObject({
    restApiId: z
      .string()
      .regex(/^[a-z0-9]{10}$/, { error: 'expected the 10-character REST API id, e.g. a1b2c3d4e5' })
      .describe('id of the REST API (the first label of its execute-api host)'),
    region: z
      .string()
      .regex(/^[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}$/, { error: 'expected an AWS region such as ap-northeast-2' })
      .describe('AWS region of the REST API'),
    stage: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,128}$/, { error: 'expected a stage name of letters, digits, - and _' })
      .describe('stage name: the first path segment on the execute-api host'),
    resourcePath: z
      .string()
      .regex(resourcePathPattern, { error: 'expected a resource path such as /kakao-at-result (segments of letters, digits, . _ -)' })
      .optional()
      .describe('resource in the REST API (default: callback.path)'),
    customDomain: hostName('a host name such as callbacks.example.com')
      .optional()
      .describe('API Gateway custom domain (needed from the shadow-domain phase on)'),
    basePath: z
      .string()
      .regex(/^\/?(?:[A-Za-z0-9._-]+(?:\/[A-Za-z0-9._-]+)*)?\/?$/, {
        error: 'expected "" (no base path mapping) or a base path such as v1 or callbacks/v1',
      })
      .default('')
      .describe('base path mapping of the custom domain ("" = none)'),
    port: z.int().min(1).max(65535).default(443).describe('HTTPS port of API Gateway (only tests change it)'),
    trustedCertificate: filePath
      .default('/etc/ssl/certs/ca-certificates.crt')
      .describe('CA bundle nginx verifies the API Gateway certificate with'),
    certificateArn: z
      .string()
      .regex(/^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[A-Za-z0-9-]+$/, { error: 'expected an ACM certificate ARN' })
      .optional()
      .describe('ACM certificate of the custom domain (render apigw creates the domain when set)'),
    sourceAddresses: z
      .array(z.string().regex(/^[0-9.]+\/\d{1,2}$|^[0-9A-Fa-f:]+\/\d{1,3}$/, { error: 'expected a CIDR block such as 203.0.113.0/24' }))
      .optional()
      .describe("resource policy: only these source CIDRs may call the API (the vendor's and nginx's egress)"),
    apiKeyFile: filePath
      .optional()
      .describe('root-only file holding `proxy_set_header x-api-key "...";` that the mirror location includes'),
    requestValidation: z
      .enum(['json-object', 'vendor-schema'])
      .default('json-object')
      .describe('json-object: Content-Type and a JSON object body; vendor-schema: the preset\'s stricter model'),
  }).describe('the REST API that turns each callback into an SQS message (see `mirror render apigw`)'),
  resolver: z.strictObject({
    addresses: z
      .array(
        z.string().refine((v) => parseResolverAddress(v) !== undefined, {
          error: 'expected an IP address with an optional port: 169.254.169.253, 10.0.0.2:53 or [fd00::2]:53',
        }),
      )
      .min(1, { error: 'expected at least one resolver address (the VPC resolver is 169.254.169.253)' })
      .describe('DNS servers nginx resolves the API Gateway host with at run time'),
    valid: duration.default('10s').describe('how long nginx caches an answer (resolver valid=)'),
    timeout: duration.default('5s').describe('resolver_timeout'),
    ipv6: z.boolean().default(false).describe('also ask AAAA (ipv6=on); off avoids a failing AAAA query'),
  }).describe('DNS for the API Gateway host: nginx resolves it at run time, never at load time'),
  mirror: z
    .strictObject({
      transport: z
        .enum(['nginx', 'ship'])
        .default('nginx')
        .describe('how shadow traffic reaches API Gateway: nginx (the `mirror` directive) or ship (`mirror ship` tails the parity log)'),
      sample: z.int().min(0).max(100).default(100).describe('percent of callbacks mirrored; 0 = off switch'),
      connectTimeout: duration.default('1s').describe('proxy_connect_timeout to API Gateway'),
      sendTimeout: duration.default('1s').describe('proxy_send_timeout to API Gateway'),
      readTimeout: duration.default('2s').describe('proxy_read_timeout from API Gateway'),
      requestIdHeader: z
        .string()
        .regex(headerNamePattern, { error: 'expected a header name of letters, digits and -' })
        .default('X-Mirror-Request-Id')
        .describe('header that carries $request_id to API Gateway (the join key)'),
    })
    .prefault({})
    .describe('the shadow copy nginx sends to API Gateway'),
  parityLog: z
    .strictObject({
      path: filePath.default('/var/log/nginx/mirror-parity.log').describe('JSON-lines record of every callback nginx received'),
      body: z.boolean().default(true).describe('log the callback body (needed for body matching; holds phone numbers)'),
      answersPath: filePath
        .optional()
        .describe("where the mirror location logs API Gateway's answer to each callback, no body (default: parityLog.path with -answers before .log); read by verify --mode ack"),
      buffer: z
        .string()
        .regex(sizePattern, { error: 'expected an nginx size such as 64k' })
        .optional()
        .describe(
          "access_log buffer=: nginx writes the parity log a buffer at a time instead of a write per callback (docs/ship.md: the unbuffered write was most of what the ship transport cost the origin); lines still buffered when an nginx worker crashes are lost (a reload, a reopen or a stop writes them)",
        ),
      flush: duration
        .default('100ms')
        .describe('with parityLog.buffer: access_log flush=, the longest a line waits in the buffer (the shipper sees it this much later)'),
    })
    .prefault({})
    .describe('nginx record of every callback, the left side of `mirror verify`'),
  ship: z
    .strictObject({
      checkpoint: stateFile('.mirror/ship-checkpoint.json').describe(
        'where `mirror ship` keeps how far it has shipped each parity log (file identity and offset; written atomically)',
      ),
      ackLog: stateFile('.mirror/ship-ack.log').describe("one JSON line per callback's final answer from API Gateway (owner-only; read by verify)"),
      listen: z
        .string()
        .regex(/^(?:\[[0-9A-Fa-f:]+\]|[0-9.]+|localhost):\d{1,5}$/, { error: 'expected host:port such as 127.0.0.1:9465' })
        .default('127.0.0.1:9465')
        .describe("where the shipper serves its Prometheus /metrics (port 0: any free port)"),
      connectTimeout: duration.default('2s').describe('TCP and TLS connect timeout to API Gateway'),
      requestTimeout: duration.default('10s').describe('how long one attempt may wait for its answer'),
      retries: z.int().min(0).max(100_000).default(1000).describe('retry budget: attempts after the first before a callback is recorded as gave-up'),
      minBackoff: duration.default('100ms').describe('first retry delay; it doubles per attempt, with jitter'),
      maxBackoff: duration.default('10s').describe('cap on the retry delay'),
      giveUpAfter: duration.default('6h').describe('a callback still unanswered this long after nginx received it is recorded as gave-up'),
      window: z.int().min(1).max(10_000).default(256).describe('callbacks in flight at once; the log is read no faster than they are answered'),
      connections: z
        .int()
        .min(1)
        .max(10_000)
        .default(64)
        .describe('HTTP/1.1 connections per API Gateway address, each carrying one attempt at a time: at most this many (and at most window) are on the wire, the rest of the window waits; more send faster to a slow gateway, at ~50 KiB of memory each'),
      statusInterval: duration.default('10s').describe('how often a status line is written when not on a terminal'),
      maxCheckpointAge: duration
        .default('1m')
        .describe('`cutover advance` into a shadow phase refuses when the checkpoint is older than this: the shipper is not running (it rewrites it every 5 s, or a quarter of this when shorter)'),
    })
    .prefault({})
    .describe('`mirror ship` (mirror.transport: ship): tails the parity log and sends each callback, at least once'),
  sqs: z.strictObject({
    queueUrl: z
      .url({ protocol: /^https?$/, error: 'expected the queue URL, e.g. https://sqs.ap-northeast-2.amazonaws.com/123456789012/name' })
      .describe('URL of the SQS queue API Gateway sends to'),
    endpoint: z.url({ protocol: /^https?$/ }).optional().describe('SQS endpoint override for emulators'),
    kmsKeyArn: z
      .string()
      .regex(/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(?:key|alias)\/[A-Za-z0-9/_-]+$/, { error: 'expected a KMS key ARN' })
      .optional()
      .describe('customer managed KMS key of the queue (the role then gets kms:GenerateDataKey and kms:Decrypt)'),
    createQueue: z
      .boolean()
      .default(false)
      .describe('render apigw also creates the queue, its dead-letter queue and an owner-only, HTTPS-only policy'),
  }).describe('the queue the messages land in, the right side of `mirror verify`'),
  verify: z
    .strictObject({
      grace: duration.default('2m').describe('how long a callback may wait for its SQS message before it counts as missing'),
      gate: z.number().min(0).max(1).default(0.999).describe('minimum parity (matched / judged) for a gate to pass'),
      minSample: z.int().min(1).default(100).describe('callbacks that must be judged before a gate can pass'),
      liveConsumer: z
        .boolean()
        .default(false)
        .describe('the queue has a real consumer: the cutover gates judge from API Gateway\'s answers (--mode ack) and never receive from the queue'),
    })
    .prefault({})
    .describe('the parity comparator: `mirror verify` and the cutover gates'),
  cutover: z
    .strictObject({
      stateFile: z
        .string()
        .min(1)
        .regex(/^[^\0\n]+$/, { error: 'expected a file path' })
        .default('.mirror/state.json')
        .describe('the cutover state: current phase and every transition (written atomically; relative to the working directory)'),
      nginxDir: z
        .string()
        .min(1)
        .regex(/^[^\0\n]+$/, { error: 'expected a directory path' })
        .default('mirror-nginx')
        .describe('where cutover advance/rollback write the include files nginx loads (--nginx-dir)'),
    })
    .prefault({})
    .describe('`mirror cutover`: where its state lives and where it writes'),
  phase: z.enum(phases).default('off').describe('phase rendered when --phase is not given'),
  sandbox: sandboxKeysSchema.optional(),
});

export type RawConfig = z.input<typeof configSchema>;
export type ParsedConfig = z.output<typeof configSchema>;
