/**
 * Callback bodies and parity-log lines for the verify benchmarks: the sandbox's
 * Bizppurio callbacks (quotes, emoji, Korean, pretty-printed ones), padded to
 * about 400 bytes like a real delivery result with a vendor message text.
 */
import { trickyCallback } from '../../src/sandbox/callbacks.js';
import { bizppurio } from '../../src/vendors/bizppurio.js';

export const benchRequestId = (i: number) => i.toString(16).padStart(32, '0');

export function benchCallbackBody(i: number): string {
  const body = trickyCallback(bizppurio, i);
  const pad = Math.max(0, 400 - Buffer.byteLength(body));
  // Insert one more field before the closing brace: still one JSON object.
  return `${body.slice(0, body.lastIndexOf('}'))},"RSLT_MSG":"${'delivered to handset '.repeat(8).slice(0, pad)}"}`;
}

/** One parity-log line as `mirror render`'s log_format writes it (escape=json). */
export function benchParityLine(i: number, timeMs: number, body: string): string {
  return JSON.stringify({
    v: 1,
    time: new Date(timeMs).toISOString(),
    msec: timeMs / 1000,
    request_id: benchRequestId(i),
    nginx_host: `n${i % 3}`,
    method: 'POST',
    uri: '/api/kakao/result',
    status: 200,
    request_length: Buffer.byteLength(body) + 180,
    content_type: 'application/json',
    phase: 'shadow',
    apigw: '1',
    upstream_status: '200',
    body,
  });
}

