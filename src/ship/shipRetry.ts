/**
 * Pure: what one attempt's result means, and whether to try again. The
 * integration maps every SQS error to 5xx, so a 2xx means SQS accepted the message
 * (docs/apigw.md). 429 and 5xx are API Gateway or SQS saying "later"; any other
 * 4xx is a final answer (a wrong path, a rejected body) that a retry cannot change.
 */
import type { ShipCause } from '../wire/shipAck.js';
import type { WindowSignal } from './sendWindow.js';

export type { ShipCause } from '../wire/shipAck.js';

export type AttemptResult =
  | { kind: 'answer'; status: number; errorType: string }
  /** No HTTP answer. `sent`: the request may have reached the target before it failed. */
  | { kind: 'failure'; cause: Exclude<ShipCause, 'ok' | 'http-4xx' | 'http-429' | 'http-5xx' | 'body-not-captured'>; sent: boolean };

export interface AttemptVerdict {
  cause: ShipCause;
  retry: boolean;
  delivered: boolean;
  /** The message may have landed although no 2xx was seen. */
  uncertain: boolean;
}

export function judgeAttempt(result: AttemptResult): AttemptVerdict {
  if (result.kind === 'failure') return { cause: result.cause, retry: true, delivered: false, uncertain: result.sent };
  const { status } = result;
  if (status >= 200 && status < 300) return { cause: 'ok', retry: false, delivered: true, uncertain: false };
  if (status === 429) return { cause: 'http-429', retry: true, delivered: false, uncertain: false };
  if (status >= 500) return { cause: 'http-5xx', retry: true, delivered: false, uncertain: false };
  if (status >= 400) return { cause: 'http-4xx', retry: false, delivered: false, uncertain: false };
  // 1xx/3xx: API Gateway sends neither for a POST; not a delivery, and not worth a retry storm.
  return { cause: 'other', retry: false, delivered: false, uncertain: false };
}

/**
 * What an attempt says about the gateway, for the send window: an answer it
 * accepted or finally refused; "later" (429, 5xx, or no answer after the request
 * may have gone out: slow or overloaded); unreachable (the request never left).
 */
export function windowSignal(result: AttemptResult): WindowSignal {
  if (result.kind === 'failure') return result.sent ? 'later' : 'unreachable';
  if (result.status === 429 || result.status >= 500) return 'later';
  return 'answered';
}

/**
 * An error from the HTTP client to a cause. Codes: Node's net/dns/tls errors and
 * undici's (github.com/nodejs/undici/blob/main/docs/docs/api/Errors.md).
 * `sent` says whether the request can have reached the target: a connect-phase
 * failure proves it did not.
 */
export function failureOfError(error: unknown): Extract<AttemptResult, { kind: 'failure' }> {
  const chain: { code?: unknown; syscall?: unknown }[] = [];
  for (let e = error as { cause?: unknown } | undefined, i = 0; e && i < 5; e = e.cause as typeof e, i++) chain.push(e as (typeof chain)[number]);
  const codes = chain.map((e) => String(e.code ?? ''));
  const has = (...wanted: string[]) => codes.some((c) => wanted.includes(c));
  // The resolver's own errors (queryA, queryAaaa) are DNS whatever their code says.
  if (chain.some((e) => String(e.syscall ?? '').startsWith('query'))) return { kind: 'failure', cause: 'dns', sent: false };
  if (has('ENOTFOUND', 'EAI_AGAIN', 'ENODATA', 'ESERVFAIL', 'ENOTIMP', 'EREFUSED', 'ECONNREFUSED_DNS', 'EBADRESP')) return { kind: 'failure', cause: 'dns', sent: false };
  if (has('ECONNREFUSED')) return { kind: 'failure', cause: 'connect-refused', sent: false };
  if (has('UND_ERR_CONNECT_TIMEOUT')) return { kind: 'failure', cause: 'timeout', sent: false };
  if (codes.some((c) => c.startsWith('ERR_TLS') || c.startsWith('ERR_SSL') || /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|HOSTNAME_MISMATCH|ERR_TLS_CERT_ALTNAME_INVALID/.test(c))) {
    return { kind: 'failure', cause: 'tls', sent: false };
  }
  if (has('UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT')) return { kind: 'failure', cause: 'timeout', sent: true };
  if (has('ECONNRESET', 'UND_ERR_SOCKET', 'EPIPE', 'UND_ERR_CLOSED')) return { kind: 'failure', cause: 'reset', sent: true };
  return { kind: 'failure', cause: 'other', sent: true };
}

export interface BackoffSettings {
  retries: number;
  minBackoffMs: number;
  maxBackoffMs: number;
  giveUpAfterMs: number;
}

/**
 * p-retry's options for one callback: capped exponential backoff with jitter
 * (`randomize` multiplies each delay by 1 to 2), and no retry once the callback is
 * older than the give-up age. A callback already that old is still tried once.
 */
export function retryOptions(settings: BackoffSettings, receivedMs: number, nowMs: number) {
  return {
    retries: settings.retries,
    factor: 2,
    minTimeout: settings.minBackoffMs,
    maxTimeout: settings.maxBackoffMs,
    randomize: true,
    maxRetryTime: Math.max(0, receivedMs + settings.giveUpAfterMs - nowMs),
  };
}
