/**
 * Pure: one parity-log line, as the bytes nginx wrote, to what `mirror ship` does
 * with it: send it (and where), skip it, or record that its body was not captured.
 *
 * nginx's `escape=json` escapes `"`, `\` and control characters but writes bytes
 * above 0x7F as they came (FINDINGS.md, "Measured 2026-11-30"), so a body that is
 * not valid UTF-8 stays so in the log. Decoding the line as latin1 maps each byte
 * to one code unit; JSON.parse then undoes nginx's escapes, and encoding the body
 * back as latin1 gives the bytes nginx received, whatever they were.
 */
import type { Phase } from '../config/phases.js';

export type ShipTargetName = 'execute-api' | 'custom-domain';

export interface ShipItem {
  requestId: string;
  /** When nginx received the callback, epoch ms (`msec` - `request_time`). */
  receivedMs: number;
  target: ShipTargetName;
  /** `?a=b` from the callback's `$request_uri`, or "". */
  query: string;
  contentType: string;
  /** The `X-Mirror-Probe` value `mirror probe --through-nginx` set, or "". */
  probe: string;
  body: Buffer;
}

export type ShipLineDecision =
  | { kind: 'send'; item: ShipItem }
  /** nginx logged the callback but not its body (spilled to a temp file, or no body field): never sent empty. */
  | { kind: 'not-captured'; requestId: string; receivedMs: number; target: ShipTargetName }
  /** Nothing to send: another phase, not sampled, or not a parity-log line. */
  | { kind: 'skip'; reason: 'other-phase' | 'not-sampled' | 'unparseable' };

const targetOfPhase: Partial<Record<Phase, ShipTargetName>> = { shadow: 'execute-api', 'shadow-domain': 'custom-domain' };

export function decideShipLine(line: Buffer): ShipLineDecision {
  let value: unknown;
  try {
    value = JSON.parse(line.toString('latin1'));
  } catch {
    return { kind: 'skip', reason: 'unparseable' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { kind: 'skip', reason: 'unparseable' };
  const fields = value as Record<string, unknown>;
  const requestId = fields.request_id;
  if (typeof requestId !== 'string' || !/^[0-9a-f]{32}$/.test(requestId)) return { kind: 'skip', reason: 'unparseable' };
  const target = typeof fields.phase === 'string' ? targetOfPhase[fields.phase as Phase] : undefined;
  if (!target) return { kind: 'skip', reason: 'other-phase' };
  // The log's apigw field is the sampling decision nginx made for this callback.
  if (fields.apigw !== '1') return { kind: 'skip', reason: 'not-sampled' };
  const msec = Number(fields.msec);
  const requestTime = Number(fields.request_time);
  const receivedMs = Number.isFinite(msec) ? Math.round((msec - (Number.isFinite(requestTime) ? requestTime : 0)) * 1000) : Date.now();
  const body = typeof fields.body === 'string' ? fields.body : undefined;
  const contentLength = typeof fields.content_length === 'string' && /^\d+$/.test(fields.content_length) ? Number(fields.content_length) : undefined;
  // An empty body is captured only when the request said it was empty; a line
  // without Content-Length (an older render) cannot tell, so it is not sent.
  const captured = body !== undefined && (body.length > 0 ? contentLength === undefined || body.length === contentLength : contentLength === 0);
  if (!captured || /[^\u0000-\u00ff]/.test(body!)) return { kind: 'not-captured', requestId, receivedMs, target };
  const uri = typeof fields.uri === 'string' ? fields.uri : '';
  const queryAt = uri.indexOf('?');
  return {
    kind: 'send',
    item: {
      requestId,
      receivedMs,
      target,
      query: queryAt >= 0 ? uri.slice(queryAt) : '',
      contentType: typeof fields.content_type === 'string' ? fields.content_type : '',
      probe: typeof fields.probe === 'string' ? fields.probe : '',
      body: Buffer.from(body!, 'latin1'),
    },
  };
}
