/** Parity-log lines for tests, in the JSON format `mirror render` configures (see src/verify/parityLogLine.ts). */

/** A request id made from a number: 32 hex digits, as nginx's $request_id. */
export const numberedRequestId = (i: number): string => i.toString(16).padStart(32, '0');

export function parityLine(
  requestId: string,
  body: string,
  fields: { msec?: number; status?: number; upstreamStatus?: string; apigw?: '0' | '1' } = {},
): string {
  const msec = fields.msec ?? Date.now();
  return JSON.stringify({
    v: 1, time: new Date(msec).toISOString(), msec: msec / 1000, request_id: requestId, nginx_host: 'n1', method: 'POST', uri: '/api/kakao/result',
    status: fields.status ?? 200, request_length: 300, content_type: 'application/json', phase: 'shadow', apigw: fields.apigw ?? '1',
    upstream_status: fields.upstreamStatus ?? '200', body,
  });
}
