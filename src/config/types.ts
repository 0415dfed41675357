/**
 * The config every command works with, after the schema, normalization and rules.
 * Types only: the schema (schema.ts), the pipeline (validate.ts) and the rules
 * (rules.ts) all import from here, so none of them imports another for a type.
 */
import type { ConfigIssue } from '../errors.js';
import type { ParsedConfig } from './schema.js';
import type { UpstreamUrl } from './nginxValues.js';

export interface SqsQueue {
  url: string;
  accountId: string;
  name: string;
  /** From the host (sqs.{region}.amazonaws.com); undefined for emulators. */
  region?: string;
}

/** The config every command works with: defaults applied, derived values filled in. */
export interface MirrorConfig extends Omit<ParsedConfig, 'name' | 'apiGateway' | 'sqs'> {
  name: string;
  apiGateway: ParsedConfig['apiGateway'] & { resourcePath: string; basePath: string };
  sqs: ParsedConfig['sqs'] & { queue: SqsQueue };
  origin: UpstreamUrl;
}

type Severity = 'error' | 'warning';
export interface RuleIssue extends ConfigIssue {
  severity: Severity;
}
