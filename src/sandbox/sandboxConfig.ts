/**
 * The embedded defaults the demo and the sandbox run on: the contract's example
 * config (README), pointed at local processes. Returned raw, so it goes through
 * the same schema and rules as a user's mirror.yaml.
 */
import type { Phase } from '../config/phases.js';

export interface SandboxConfigInput {
  restApiId: string;
  region: string;
  customDomain: string;
  originUrl: string;
  targetPort: number;
  trustedCertificate: string;
  resolverAddress: string;
  resolverTimeout: string;
  parityLogPath: string;
  sample: number;
  phase: Phase;
}

export function sandboxRawConfig(input: SandboxConfigInput): Record<string, any> {
  return {
    vendor: 'bizppurio',
    callback: { path: '/api/kakao/result', upstream: input.originUrl },
    apiGateway: {
      restApiId: input.restApiId,
      region: input.region,
      stage: 'dev',
      resourcePath: '/kakao-at-result',
      customDomain: input.customDomain,
      basePath: '',
      port: input.targetPort,
      trustedCertificate: input.trustedCertificate,
    },
    resolver: { addresses: [input.resolverAddress], valid: '10s', timeout: input.resolverTimeout, ipv6: false },
    mirror: { sample: input.sample, connectTimeout: '1s', sendTimeout: '1s', readTimeout: '2s', requestIdHeader: 'X-Mirror-Request-Id' },
    parityLog: { path: input.parityLogPath, body: true },
    sqs: { queueUrl: `https://sqs.${input.region}.amazonaws.com/123456789012/kakao-at-result` },
    phase: input.phase,
  };
}
