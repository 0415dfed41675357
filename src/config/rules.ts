/** Cross-field config rules: small functions, each returning the issues it finds. */
import { durationToMs } from './nginxValues.js';
import { usesCustomDomain, type Phase } from './phases.js';
import type { MirrorConfig, RuleIssue } from './validate.js';
import { bodyBufferRule } from './bodyBufferRule.js';

export type ConfigRule = (config: MirrorConfig, phase: Phase) => RuleIssue[];

/** Mirror timeouts above this stall the vendor's keepalive connection (FINDINGS.md, fact 7). */
export const maxMirrorTimeoutMs = 5000;

const customDomainForPhase: ConfigRule = (config, phase) =>
  usesCustomDomain(phase) && !config.apiGateway.customDomain
    ? [{ severity: 'error', path: 'apiGateway.customDomain', message: `is required for the ${phase} phase: expected the custom domain host name` }]
    : [];

const mirrorTimeouts: ConfigRule = (config) =>
  (['connectTimeout', 'sendTimeout', 'readTimeout'] as const)
    .filter((key) => durationToMs(config.mirror[key]) > maxMirrorTimeoutMs)
    .map((key) => ({
      severity: 'warning',
      path: `mirror.${key}`,
      message: `${config.mirror[key]} is over 5s: nginx holds the vendor's connection until the mirror finishes`,
    }));

const zeroDurations: ConfigRule = (config) =>
  (['connectTimeout', 'sendTimeout', 'readTimeout'] as const)
    .filter((key) => durationToMs(config.mirror[key]) === 0)
    .map((key) => ({ severity: 'error', path: `mirror.${key}`, message: 'expected a duration above zero' }));

const reservedRequestIdHeader: ConfigRule = (config) =>
  ['host', 'content-type', 'content-length', 'connection', 'transfer-encoding', 'x-amzn-trace-id'].includes(
    config.mirror.requestIdHeader.toLowerCase(),
  )
    ? [{ severity: 'error', path: 'mirror.requestIdHeader', message: 'expected a header of its own, not one HTTP or API Gateway already uses' }]
    : [];

const fifoQueue: ConfigRule = (config) =>
  config.sqs.queue.name.endsWith('.fifo')
    ? [{ severity: 'error', path: 'sqs.queueUrl', message: 'a FIFO queue needs MessageGroupId on every send; expected a standard queue' }]
    : [];

const queueRegion: ConfigRule = (config) =>
  config.sqs.queue.region && config.sqs.queue.region !== config.apiGateway.region
    ? [{
        severity: 'warning',
        path: 'sqs.queueUrl',
        message: `queue is in ${config.sqs.queue.region} but the REST API in ${config.apiGateway.region}: cross-region sends add latency`,
      }]
    : [];

const bodylessParityLog: ConfigRule = (config) =>
  config.parityLog.body
    ? []
    : [{ severity: 'warning', path: 'parityLog.body', message: 'false: verify can join on the request id only, and cannot detect body mismatches' }];

export const configRules: readonly ConfigRule[] = [
  customDomainForPhase,
  mirrorTimeouts,
  zeroDurations,
  reservedRequestIdHeader,
  fifoQueue,
  queueRegion,
  bodylessParityLog,
  bodyBufferRule,
];
