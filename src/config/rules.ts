/** Cross-field config rules: small functions, each returning the issues it finds. */
import { durationToMs } from './nginxValues.js';
import { usesCustomDomain, type Phase } from './phases.js';
import type { MirrorConfig, RuleIssue } from './types.js';
import { bodyBufferRule } from './bodyBufferRule.js';

type ConfigRule = (config: MirrorConfig) => RuleIssue[];
/** A rule that depends on the phase the config is checked for, not only on the config. */
type PhaseRule = (config: MirrorConfig, phase: Phase) => RuleIssue[];

/** Mirror timeouts above this stall the vendor's keepalive connection (FINDINGS.md, fact 7). */
const maxMirrorTimeoutMs = 5000;

const customDomainForPhase: PhaseRule = (config, phase) =>
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

const shipNeedsBodies: ConfigRule = (config) =>
  config.mirror.transport === 'ship' && !config.parityLog.body
    ? [{
        severity: 'error',
        path: 'parityLog.body',
        message: 'is false, but mirror.transport ship sends each callback from the parity log: expected parityLog.body true (or transport nginx)',
      }]
    : [];

const shipBackoff: ConfigRule = (config) =>
  durationToMs(config.ship.minBackoff) > durationToMs(config.ship.maxBackoff)
    ? [{ severity: 'error', path: 'ship.minBackoff', message: `${config.ship.minBackoff} is above ship.maxBackoff ${config.ship.maxBackoff}: expected min <= max` }]
    : [];

export const configRules: readonly ConfigRule[] = [
  mirrorTimeouts,
  zeroDurations,
  reservedRequestIdHeader,
  fifoQueue,
  queueRegion,
  bodylessParityLog,
  shipNeedsBodies,
  shipBackoff,
  bodyBufferRule,
];

const phaseRules: readonly PhaseRule[] = [customDomainForPhase];

/**
 * The checks that depend on the phase: a loaded config is checked for another phase
 * (the one a cutover moves to) with this, without reading and validating it again.
 */
export function phaseIssues(config: MirrorConfig, phase: Phase): RuleIssue[] {
  return phaseRules.flatMap((rule) => rule(config, phase));
}
