/**
 * Pure: one parity-log line (the JSON `log_format` that `mirror render` writes) to
 * a CallbackRecord, or the reason it is not one. Never throws: a bad line is a
 * counted, reported fact, not a crash.
 */
import type { CallbackRecord } from './records.js';

export type ParsedLine = { ok: true; record: CallbackRecord } | { ok: false; reason: string };

/**
 * One line nginx (or the shipper) wrote as a JSON object keyed by nginx's
 * `$request_id`: the fields and the id, or why the line is not one.
 */
export function parseRequestLine(line: string): { ok: true; fields: Record<string, unknown>; requestId: string } | { ok: false; reason: string } {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { ok: false, reason: 'not JSON' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, reason: 'not a JSON object' };
  const fields = value as Record<string, unknown>;
  const requestId = fields.request_id;
  if (typeof requestId !== 'string' || !/^[0-9a-f]{32}$/.test(requestId)) return { ok: false, reason: 'no request_id of 32 hex digits' };
  return { ok: true, fields, requestId };
}

export function parseParityLogLine(line: string, source: { file: string; line: number }): ParsedLine {
  const parsed = parseRequestLine(line);
  if (!parsed.ok) return parsed;
  const { fields, requestId } = parsed;
  const msec = typeof fields.msec === 'number' ? fields.msec : Number(fields.msec);
  if (!Number.isFinite(msec) || msec <= 0) return { ok: false, reason: 'no msec timestamp' };
  const status = typeof fields.status === 'number' ? fields.status : Number(fields.status);
  if (!Number.isInteger(status)) return { ok: false, reason: 'no status' };
  // $msec is when nginx logged the request, after the mirror (and SQS) had it: the
  // callback arrived $request_time earlier. Lines without it (older renders) use $msec.
  const requestTime = typeof fields.request_time === 'number' ? fields.request_time : Number(fields.request_time);
  const receivedMs = Number.isFinite(requestTime) && requestTime >= 0 ? (msec - requestTime) * 1000 : msec * 1000;
  return {
    ok: true,
    record: {
      requestId,
      timeMs: Math.round(receivedMs),
      method: stringField(fields.method),
      uri: stringField(fields.uri),
      status,
      upstreamStatus: stringField(fields.upstream_status),
      sentToGateway: fields.apigw === '1',
      phase: stringField(fields.phase),
      ...bodyFields(fields),
      source,
    },
  };
}

function stringField(value: unknown): string {
  return typeof value === 'string' ? value : value === undefined || value === null ? '' : String(value);
}

/**
 * The logged body, unless nginx did not capture it. A body larger than
 * `client_body_buffer_size` goes to a temp file and `$request_body` logs empty
 * (FINDINGS.md); `$content_length` is the length nginx read (for a chunked request
 * too, once the body was read: measured, nginx 1.22), so a logged body of another
 * byte length is not the callback's body. Lines without `content_length` (older
 * renders) keep their body as logged.
 */
function bodyFields(fields: Record<string, unknown>): { body?: string; bodyCaptured?: boolean } {
  if (typeof fields.body !== 'string') return {};
  const declared = fields.content_length === undefined || fields.content_length === '' ? undefined : Number(fields.content_length);
  if (declared !== undefined && Number.isInteger(declared) && declared >= 0 && Buffer.byteLength(fields.body, 'utf8') !== declared) {
    return { bodyCaptured: false };
  }
  return { body: fields.body };
}
