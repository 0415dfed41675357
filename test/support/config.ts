/** Config fixtures for tests: the contract's example values, overridable per test. */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';

/** A real CA certificate (it signs nothing): nginx -t needs the trusted-certificate file to exist. */
export const fixtureCaPath = fileURLToPath(new URL('../fixtures/fixture-ca.pem', import.meta.url));

export type RawConfigTree = Record<string, unknown>;

export function exampleConfig(): RawConfigTree {
  return {
    vendor: 'bizppurio',
    callback: { path: '/api/kakao/result', upstream: 'http://127.0.0.1:8080' },
    apiGateway: {
      restApiId: 'a1b2c3d4e5',
      region: 'ap-northeast-2',
      stage: 'dev',
      resourcePath: '/kakao-at-result',
      customDomain: 'callbacks.example.com',
      basePath: '',
      port: 443,
      trustedCertificate: fixtureCaPath,
    },
    resolver: { addresses: ['169.254.169.253'], valid: '10s', timeout: '5s', ipv6: false },
    mirror: { sample: 100, connectTimeout: '1s', sendTimeout: '1s', readTimeout: '2s', requestIdHeader: 'X-Mirror-Request-Id' },
    parityLog: { path: '/var/log/nginx/mirror-parity.log', body: true },
    sqs: { queueUrl: 'https://sqs.ap-northeast-2.amazonaws.com/123456789012/kakao-at-result' },
    phase: 'shadow',
  };
}

/** Sets `value` at a dotted path (`resolver.addresses.0`) in a copy of `tree`. */
export function withValue(tree: RawConfigTree, path: string, value: unknown): RawConfigTree {
  const copy = structuredClone(tree);
  const keys = path.split('.');
  let node: Record<string, unknown> = copy;
  for (const key of keys.slice(0, -1)) node = node[key] as Record<string, unknown>;
  node[keys.at(-1)!] = value;
  return copy;
}

export async function writeConfigFile(tree: RawConfigTree, dir?: string): Promise<string> {
  const target = dir ?? (await mkdtemp(join(tmpdir(), 'mirror-config-')));
  const path = join(target, 'mirror.yaml');
  await writeFile(path, stringify(tree));
  return path;
}
