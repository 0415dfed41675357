/**
 * Pure: the commented starter config `mirror init` writes. Values come from the
 * vendor preset, comments from the schema's descriptions, so neither is written twice.
 */
import { Document, isMap, isPair, isScalar, isSeq, type Pair, type Scalar, type YAMLMap } from 'yaml';
import type { z } from 'zod';
import { configSchema, type RawConfig } from './schema.js';
import type { VendorPreset } from '../vendors/index.js';

function starterValues(preset: VendorPreset): RawConfig {
  return {
    vendor: preset.id as RawConfig['vendor'],
    callback: { path: preset.defaultCallbackPath, upstream: 'http://127.0.0.1:8080', bodyBufferSize: '64k' },
    apiGateway: {
      restApiId: 'a1b2c3d4e5',
      region: 'ap-northeast-2',
      stage: 'dev',
      resourcePath: preset.defaultResourcePath,
      customDomain: 'callbacks.example.com',
      basePath: '',
      port: 443,
      trustedCertificate: '/etc/ssl/certs/ca-certificates.crt',
    },
    resolver: { addresses: ['169.254.169.253'], valid: '10s', timeout: '5s', ipv6: false },
    mirror: { sample: 100, connectTimeout: '1s', sendTimeout: '1s', readTimeout: '2s', requestIdHeader: 'X-Mirror-Request-Id' },
    parityLog: { path: '/var/log/nginx/mirror-parity.log', body: true },
    sqs: { queueUrl: 'https://sqs.ap-northeast-2.amazonaws.com/123456789012/kakao-at-result' },
    verify: { grace: '2m', gate: 0.999, minSample: 100 },
    cutover: { stateFile: '.mirror/state.json', nginxDir: 'mirror-nginx' },
    phase: 'off',
  };
}

export function starterConfigText(preset: VendorPreset): string {
  const document = new Document(starterValues(preset));
  document.commentBefore =
    ` mirror config for ${preset.displayName}: ${preset.summary}.\n` +
    ' Every key is checked by `mirror validate`; values that reach nginx are whitelisted.\n' +
    ' Replace the example ids, host names and queue URL with your own.';
  annotate(document.contents as YAMLMap, configSchema);
  const optional = unsetKeys(configSchema, starterValues(preset) as Record<string, unknown>, '');
  if (optional.length > 0) {
    document.comment = [' Optional keys, not set above (add them where they belong):', ...optional.map(([path, text]) => `   ${path}: ${text}`)].join('\n');
  }
  return document.toString({ lineWidth: 0 });
}

function annotate(map: YAMLMap, schema: z.ZodType): void {
  const shape = objectShape(schema);
  if (!shape) return;
  for (const item of map.items) {
    if (!isPair(item) || !isScalar(item.key)) continue;
    const pair = item as Pair<Scalar, unknown>;
    const field = shape[String(pair.key.value)];
    if (!field) continue;
    const description = describe(field);
    if (isMap(pair.value) || isSeq(pair.value)) {
      if (description) pair.key.commentBefore = ` ${description}`;
      if (isMap(pair.value)) annotate(pair.value, field);
    } else if (description && pair.value && typeof pair.value === 'object') {
      (pair.value as Scalar).comment = ` ${description}`;
    }
  }
}

/** Schema keys the starter values leave out, with their descriptions, as dotted paths. */
function unsetKeys(schema: z.ZodType, values: Record<string, unknown>, prefix: string): [string, string][] {
  const shape = objectShape(schema);
  if (!shape) return [];
  return Object.entries(shape).flatMap(([key, field]): [string, string][] => {
    const path = `${prefix}${key}`;
    const value = values[key];
    if (value === undefined) return [[path, describe(field) ?? '']];
    if (value && typeof value === 'object' && !Array.isArray(value)) return unsetKeys(field, value as Record<string, unknown>, `${path}.`);
    return [];
  });
}

/** The description set anywhere on a field's wrappers (default, optional, prefault). */
function describe(schema: z.ZodType): string | undefined {
  let current: z.ZodType | undefined = schema;
  while (current) {
    if (current.description) return current.description;
    current = inner(current);
  }
  return undefined;
}

function objectShape(schema: z.ZodType): Record<string, z.ZodType> | undefined {
  let current: z.ZodType | undefined = schema;
  while (current) {
    const shape = (current as unknown as { shape?: Record<string, z.ZodType> }).shape;
    if (shape) return shape;
    current = inner(current);
  }
  return undefined;
}

function inner(schema: z.ZodType): z.ZodType | undefined {
  return (schema as unknown as { def: { innerType?: z.ZodType } }).def.innerType;
}
