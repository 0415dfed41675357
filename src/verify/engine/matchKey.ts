/**
 * How a callback and a message are joined: on the request-id attribute (the
 * default and the only exact key), on JSON body fields, or on a hash of the body.
 */
import { createHash } from 'node:crypto';
import type { CallbackRecord, QueueMessage } from './records.js';
import { requestIdAttribute } from '../../wire/contract.js';

export type MatchMode = { kind: 'request-id' } | { kind: 'fields'; fields: string[] } | { kind: 'body-hash' };

export interface KeyFunctions {
  callbackKey(record: CallbackRecord): string | undefined;
  messageKey(message: QueueMessage): string | undefined;
}

export function keyFunctions(mode: MatchMode): KeyFunctions {
  switch (mode.kind) {
    case 'request-id':
      return {
        callbackKey: (r) => r.requestId || undefined,
        messageKey: (m) => m.attributes[requestIdAttribute] || undefined,
      };
    case 'fields':
      return {
        callbackKey: (r) => (r.body === undefined ? undefined : fieldsKey(r.body, mode.fields)),
        messageKey: (m) => fieldsKey(m.body, mode.fields),
      };
    case 'body-hash':
      return {
        callbackKey: (r) => (r.body === undefined ? undefined : bodyHash(r.body)),
        messageKey: (m) => bodyHash(m.body),
      };
  }
}

/** The named fields' values as one key; undefined when the body is not a JSON object or a field is missing. */
function fieldsKey(body: string, fields: readonly string[]): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
  const values = fields.map((f) => (parsed as Record<string, unknown>)[f]);
  if (values.some((v) => v === undefined)) return undefined;
  return JSON.stringify(values);
}

function bodyHash(body: string): string {
  return createHash('sha256').update(body, 'utf8').digest('hex');
}

/** Parses `--match request-id | body-hash | field:A,field:B`. */
export function parseMatchMode(text: string): MatchMode | undefined {
  if (text === 'request-id') return { kind: 'request-id' };
  if (text === 'body-hash') return { kind: 'body-hash' };
  const parts = text.split(',').map((p) => p.trim());
  if (parts.length > 0 && parts.every((p) => /^field:[A-Za-z0-9_.-]+$/.test(p))) {
    return { kind: 'fields', fields: parts.map((p) => p.slice('field:'.length)) };
  }
  return undefined;
}
