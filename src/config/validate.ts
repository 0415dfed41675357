/**
 * Config: schema, then normalize, then rules. Pure: raw data in, a config or a
 * list of issues (each naming a key path and what was expected) out.
 */
import type { z } from 'zod';
import type { ConfigIssue } from '../errors.js';
import { configSchema, type ParsedConfig } from './schema.js';
import { parseUpstreamUrl } from './nginxValues.js';
import { configRules, phaseIssues } from './rules.js';
import type { Phase } from './phases.js';
import type { MirrorConfig, RuleIssue, SqsQueue } from './types.js';

export type ConfigResult =
  | { ok: true; config: MirrorConfig; warnings: RuleIssue[] }
  | { ok: false; issues: ConfigIssue[] };

export function validateConfig(raw: unknown, phase?: Phase): ConfigResult {
  const parsed = configSchema.safeParse(raw ?? {});
  if (!parsed.success) return { ok: false, issues: schemaIssues(parsed.error) };
  const queue = parseQueueUrl(parsed.data.sqs.queueUrl);
  if (!queue) {
    return {
      ok: false,
      issues: [
        {
          path: 'sqs.queueUrl',
          message: `expected https://sqs.{region}.amazonaws.com/{12-digit account}/{queue name}, got "${parsed.data.sqs.queueUrl}"`,
        },
      ],
    };
  }
  const config = normalize(parsed.data, queue);
  const ruleIssues = [...configRules.flatMap((rule) => rule(config)), ...phaseIssues(config, phase ?? config.phase)];
  const errors = ruleIssues.filter((i) => i.severity === 'error');
  if (errors.length > 0) return { ok: false, issues: errors.map(({ path, message }) => ({ path, message })) };
  return { ok: true, config, warnings: ruleIssues.filter((i) => i.severity === 'warning') };
}

function normalize(data: ParsedConfig, queue: SqsQueue): MirrorConfig {
  return {
    ...data,
    name: data.name ?? data.vendor,
    callback: { ...data.callback, upstream: data.callback.upstream.replace(/\/$/, '') },
    apiGateway: {
      ...data.apiGateway,
      resourcePath: data.apiGateway.resourcePath ?? data.callback.path.replace(/\/$/, ''),
      basePath: data.apiGateway.basePath.replace(/^\/+|\/+$/g, ''),
    },
    sqs: { ...data.sqs, queue },
    // The schema already refused a value this cannot parse.
    origin: parseUpstreamUrl(data.callback.upstream)!,
  };
}

const queueNamePattern = /^[A-Za-z0-9_-]{1,80}(?:\.fifo)?$/;

function parseQueueUrl(url: string): SqsQueue | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  const [, accountId, name, ...rest] = parsed.pathname.split('/');
  if (rest.length > 0 || !accountId || !/^\d{12}$/.test(accountId) || !name || !queueNamePattern.test(name)) {
    return undefined;
  }
  const region = /^sqs\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$/.exec(parsed.hostname)?.[1];
  return { url, accountId, name, ...(region ? { region } : {}) };
}

function schemaIssues(error: z.ZodError): ConfigIssue[] {
  return error.issues.map((issue) => {
    const path = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      const keys = issue.keys.map((k) => (path ? `${path}.${k}` : k));
      return { path: keys.join(', '), message: `unknown key${keys.length > 1 ? 's' : ''}; check the spelling against \`mirror init\`` };
    }
    if (issue.code === 'invalid_type' && issue.input === undefined) {
      return { path, message: `is required: ${issue.message.replace(/, received undefined$/, '')}` };
    }
    return { path, message: issue.message };
  });
}
