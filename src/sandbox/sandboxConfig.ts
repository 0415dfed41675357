/**
 * The config the demo and the sandbox run on: the user's own mirror.yaml when one is
 * given, the contract's example (README) for whatever it leaves out, and only what
 * must be local made local: the origin, the gateway's port and CA, the resolver, the
 * parity log, the phase and sampling when asked for. Every name the user chose (REST
 * API id, region, stage, resource path, custom domain, base path, queue, vendor,
 * request-id header, validation) stays, so the sandbox rehearses their migration.
 * Returned raw, so it goes through the same schema and rules as any mirror.yaml.
 */
import type { Phase } from '../config/phases.js';

export interface SandboxConfigInput {
  /** Other names for the example's API (the benchmark's); a user's config overrides them. */
  restApiId?: string;
  region?: string;
  customDomain?: string;
  originUrl: string;
  targetPort: number;
  trustedCertificate: string;
  resolverAddress: string;
  resolverTimeout: string;
  parityLogPath: string;
  /** Percent mirrored; undefined keeps the config's. */
  sample?: number;
  phase: Phase;
}

/** The example's names: what a user's config that leaves them out runs with. */
const sandboxExample = {
  restApiId: 'a1b2c3d4e5',
  region: 'ap-northeast-2',
  customDomain: 'callbacks.example.com',
} as const;

function exampleRawConfig(): Record<string, any> {
  return {
    vendor: 'bizppurio',
    callback: { path: '/api/kakao/result', upstream: 'http://127.0.0.1:9' },
    apiGateway: {
      restApiId: sandboxExample.restApiId,
      region: sandboxExample.region,
      stage: 'dev',
      resourcePath: '/kakao-at-result',
      customDomain: sandboxExample.customDomain,
      basePath: '',
    },
    resolver: { addresses: ['127.0.0.1:53'], valid: '10s', timeout: '5s', ipv6: false },
    // connectTimeout covers nginx's TLS handshake with the stand-in: on a loaded two-core
    // machine 1s ran out now and then, and the demo's 0.999 gate failed on one callback.
    mirror: { sample: 100, connectTimeout: '3s', sendTimeout: '1s', readTimeout: '2s', requestIdHeader: 'X-Mirror-Request-Id' },
    parityLog: { path: '/tmp/parity.log', body: true },
    sqs: { queueUrl: `https://sqs.${sandboxExample.region}.amazonaws.com/123456789012/kakao-at-result` },
  };
}

const isTree = (value: unknown): value is Record<string, any> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The user's values over the example's, key by key; lists are replaced whole. */
function overlay(base: Record<string, any>, over: Record<string, any>): Record<string, any> {
  const out: Record<string, any> = structuredClone(base);
  for (const [key, value] of Object.entries(over)) {
    out[key] = isTree(value) && isTree(out[key]) ? overlay(out[key], value) : structuredClone(value);
  }
  return out;
}

/** The host names the sandbox's DNS server and test CA answer for: the user's, or the example's. */
export function sandboxHostNames(user: Record<string, any> = {}): { executeApiHost: string; customDomain: string } {
  const api = overlay(exampleRawConfig(), user).apiGateway;
  return { executeApiHost: `${api.restApiId}.execute-api.${api.region}.amazonaws.com`, customDomain: api.customDomain };
}

/**
 * The raw config the sandbox runs: `user` (a mirror.yaml tree, or nothing for the
 * example) over the example, then the local parts.
 */
export function sandboxRawConfig(input: SandboxConfigInput, user: Record<string, any> = {}): Record<string, any> {
  // The example's keys belong to the example's names; a user who names their own API
  // or callback keeps their own resource path (default: callback.path) and queue.
  const example = exampleRawConfig();
  for (const key of ['restApiId', 'region', 'customDomain'] as const) if (input[key] !== undefined) example.apiGateway[key] = input[key];
  if (user.callback?.path !== undefined && user.apiGateway?.resourcePath === undefined) delete example.apiGateway.resourcePath;
  const raw = overlay(example, user);
  // Keys that only make sense against the real thing, or for the sandbox's own writer.
  delete raw.sandbox;
  delete raw.sqs.endpoint;
  raw.callback.upstream = input.originUrl;
  raw.apiGateway.port = input.targetPort;
  raw.apiGateway.trustedCertificate = input.trustedCertificate;
  // A root-only key file nginx would include: the stand-in checks keys for presence only,
  // and nginx -t fails on a file that is not there (docs/apigw.md).
  delete raw.apiGateway.apiKeyFile;
  // The stand-in sees every caller as 127.0.0.1: admit it beside the user's addresses.
  if (Array.isArray(raw.apiGateway.sourceAddresses)) raw.apiGateway.sourceAddresses = [...raw.apiGateway.sourceAddresses, '127.0.0.1/32'];
  raw.resolver = { ...raw.resolver, addresses: [input.resolverAddress], timeout: input.resolverTimeout };
  raw.parityLog = { ...raw.parityLog, path: input.parityLogPath };
  raw.mirror = { ...raw.mirror, ...(input.sample !== undefined ? { sample: input.sample } : {}) };
  raw.phase = input.phase;
  return raw;
}
