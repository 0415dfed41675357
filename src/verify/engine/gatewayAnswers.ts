/**
 * Pure: one line of an answers log to what API Gateway answered one callback. Three
 * sources write such lines: the mirror location (`log_subrequest`, kind "mirror"),
 * the parity log itself in `primary` (its upstream is API Gateway), and `mirror ship`'s
 * ack log (kind "ship", the contract in docs/verify.md). Read defensively: a line that
 * is not one of them is counted, never a crash.
 *
 * Because the integration maps every SQS error to 5xx, a 2xx from API Gateway means
 * SQS accepted the message (docs/apigw.md). A timeout or a reset after the request was
 * sent proves nothing either way: the message may have landed.
 */
import { shipCauses } from '../../wire/shipAck.js';
import { parseRequestLine } from './parityLogLine.js';

/** Why a callback did not reach SQS, as a bounded label (metrics) and a group (report). */
export const missingCauses = [
  'http-400', 'http-403', 'http-404', 'http-415', 'http-429', 'http-4xx', 'http-5xx',
  'timeout', 'reset', 'connect-refused', 'dns', 'tls', 'body-not-captured', 'no-answer', 'other',
] as const;
export type MissingCause = (typeof missingCauses)[number];

type AnswerOutcome =
  | 'delivered' // a 2xx: SQS accepted it
  | 'failed' // a final non-2xx, or nothing was sent: not in SQS
  | 'unknown' // sent, then no HTTP answer (timeout, reset): may or may not be in SQS
  | 'not-sent'; // the mirror location did not send it (not sampled)

export interface GatewayAnswer {
  requestId: string;
  outcome: AnswerOutcome;
  /** The HTTP status API Gateway answered, null when none came. */
  status: number | null;
  /** `x-amzn-ErrorType` of that answer, "" when absent. */
  errorType: string;
  cause: MissingCause | 'ok';
  source: 'mirror' | 'primary' | 'ship';
}

export type ParsedAnswer = { ok: true; answer: GatewayAnswer } | { ok: false; reason: string };

/** nginx lists one value per upstream tried ("502, 200" after a retry); the last one is the final answer. */
function last(value: unknown): string {
  if (typeof value !== 'string' && typeof value !== 'number') return '';
  const parts = String(value).split(/[,:]\s*/);
  return parts[parts.length - 1]!.trim();
}

function statusCause(status: number): MissingCause | 'ok' {
  if (status >= 200 && status < 300) return 'ok';
  if (status === 400 || status === 403 || status === 404 || status === 415 || status === 429) return `http-${status}` as MissingCause;
  if (status >= 400 && status < 500) return 'http-4xx';
  return 'http-5xx';
}

/**
 * nginx's upstream variables for one proxied request (measured, nginx 1.22):
 * an HTTP answer has a header time; a refused connection has no connect time
 * (nothing was sent); a reset after connecting is 502 and a read timeout 504,
 * both with a header time of "-"; a name that did not resolve leaves every
 * upstream variable empty (502).
 */
export function classifyUpstream(fields: { status: number; upstreamStatus: string; connectTime: string; headerTime: string }): Pick<GatewayAnswer, 'outcome' | 'status' | 'cause'> {
  const upstream = Number(fields.upstreamStatus);
  if (fields.upstreamStatus === '') {
    if (fields.status === 204) return { outcome: 'not-sent', status: null, cause: 'ok' };
    return { outcome: 'failed', status: null, cause: 'dns' };
  }
  if (fields.headerTime !== '' && fields.headerTime !== '-' && Number.isFinite(upstream)) {
    const cause = statusCause(upstream);
    return { outcome: cause === 'ok' ? 'delivered' : 'failed', status: upstream, cause };
  }
  if (fields.connectTime === '-' || fields.connectTime === '') {
    // No connect time: the connection or its TLS handshake never completed, so nothing was
    // sent. 504 is proxy_connect_timeout running out (nginx 1.22, measured: "upstream timed
    // out ... while SSL handshaking to upstream"); 502 is a refusal, and also a failed
    // certificate check, which these variables cannot tell apart (the error log can).
    if (upstream === 504) return { outcome: 'failed', status: null, cause: 'timeout' };
    return { outcome: 'failed', status: null, cause: 'connect-refused' };
  }
  if (upstream === 504) return { outcome: 'unknown', status: null, cause: 'timeout' };
  return { outcome: 'unknown', status: null, cause: 'reset' };
}

/** The causes mirror ship writes (the shared list), less `ok`, which names no failure. */
const knownShipCauses = new Set<string>(shipCauses.filter((c) => c !== 'ok'));

export function parseAnswerLine(line: string, source: 'answers' | 'parity'): ParsedAnswer {
  const parsed = parseRequestLine(line);
  if (!parsed.ok) return parsed;
  const { fields: f, requestId } = parsed;
  const errorType = typeof f.error_type === 'string' ? f.error_type : '';
  if (f.kind === 'ship') return parseShipRecord(f, requestId, errorType);
  const status = typeof f.status === 'number' ? f.status : Number(f.status);
  if (!Number.isInteger(status)) return { ok: false, reason: 'no status' };
  if (source === 'parity' && (f.upstream_header_time === undefined || f.upstream_connect_time === undefined)) {
    return { ok: false, reason: 'a parity-log line without upstream times (rendered before --mode ack existed)' };
  }
  const classified = classifyUpstream({
    status,
    upstreamStatus: last(f.upstream_status),
    connectTime: last(f.upstream_connect_time),
    headerTime: last(f.upstream_header_time),
  });
  return { ok: true, answer: { requestId, ...classified, errorType: classified.status === null ? '' : errorType, source: source === 'parity' ? 'primary' : 'mirror' } };
}

/** `mirror ship`'s ack record (v1): the contract in docs/verify.md. */
function parseShipRecord(f: Record<string, unknown>, requestId: string, errorType: string): ParsedAnswer {
  if (f.v !== 1) return { ok: false, reason: `ship record version ${String(f.v)}: expected 1` };
  const status = typeof f.status === 'number' && Number.isInteger(f.status) ? f.status : null;
  const cause = typeof f.cause === 'string' ? f.cause : '';
  const uncertain = f.uncertain === true;
  switch (f.outcome) {
    case 'delivered':
      return { ok: true, answer: { requestId, outcome: 'delivered', status, errorType, cause: 'ok', source: 'ship' } };
    case 'rejected':
    case 'gave-up':
    case 'not-captured': {
      const named: MissingCause =
        f.outcome === 'not-captured' ? 'body-not-captured' : status !== null && status >= 400 ? (statusCause(status) as MissingCause) : knownShipCauses.has(cause) ? (cause as MissingCause) : 'other';
      return { ok: true, answer: { requestId, outcome: uncertain ? 'unknown' : 'failed', status, errorType, cause: named, source: 'ship' } };
    }
    default:
      return { ok: false, reason: `ship record outcome ${JSON.stringify(f.outcome)}: expected delivered, rejected, gave-up or not-captured` };
  }
}

/** Several answers for one callback (a shipper restarted): delivered wins, then a definite failure, then unknown. */
export function betterAnswer(a: GatewayAnswer | undefined, b: GatewayAnswer): GatewayAnswer {
  if (!a) return b;
  const rank = (x: GatewayAnswer) => (x.outcome === 'delivered' ? 3 : x.outcome === 'unknown' ? 1 : x.outcome === 'failed' ? 2 : 0);
  // An uncertain attempt followed by a definite failure stays uncertain: the first send may have landed.
  if (a.outcome === 'unknown' && b.outcome === 'failed') return a;
  if (b.outcome === 'unknown' && a.outcome === 'failed') return b;
  return rank(b) > rank(a) ? b : a;
}

/** A readable name for a cause group in a report: the status and error type when API Gateway answered. */
export function causeGroup(answer: Pick<GatewayAnswer, 'cause' | 'status' | 'errorType'>): string {
  if (answer.status === null) return answer.cause;
  return `${answer.cause} (${answer.status}${answer.errorType ? ` ${answer.errorType}` : ''})`;
}
