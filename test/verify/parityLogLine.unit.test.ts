/** One parity log line to a callback record: the fields `mirror render` logs, and what is refused. */
import { describe, expect, it } from 'vitest';
import { parseParityLogLine } from '../../src/verify/engine/parityLogLine.js';

const source = { file: 'parity.log', line: 1 };
const line = (fields: Record<string, unknown>) =>
  JSON.stringify({ v: 1, time: '2026-11-25T13:00:00+00:00', msec: 1764075600.5, request_time: 0.25, request_id: 'a'.repeat(32), method: 'POST', uri: '/cb', status: 200, phase: 'shadow', apigw: '1', upstream_status: '200', body: '{"x":1}', ...fields });

describe('parseParityLogLine', () => {
  it('dates a callback from when nginx received it: msec minus request_time', () => {
    const parsed = parseParityLogLine(line({}), source);
    expect(parsed).toMatchObject({ ok: true, record: { timeMs: 1764075600250, requestId: 'a'.repeat(32), sentToGateway: true, body: '{"x":1}' } });
  });

  it('falls back to msec for lines without request_time (earlier renders)', () => {
    expect(parseParityLogLine(line({ request_time: undefined }), source)).toMatchObject({ ok: true, record: { timeMs: 1764075600500 } });
  });

  it.each([
    ['not JSON', '{"v":1,'],
    ['no request_id of 32 hex digits', line({ request_id: 'abc' })],
    ['no msec timestamp', line({ msec: 'soon' })],
    ['no status', line({ status: 'ok' })],
  ])('refuses a line with %s', (reason, text) => {
    expect(parseParityLogLine(text, source)).toEqual({ ok: false, reason });
  });
});
