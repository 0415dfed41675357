/** doctor on answers-log lines: each cause a missing callback can carry is named, with its fix. Lines as nginx 1.22 wrote them (measured). */
import { describe, expect, it } from 'vitest';
import { diagnose } from '../../src/doctor/diagnose.js';
import { missingCauses } from '../../src/verify/engine/gatewayAnswers.js';
import { missingCauseFailures } from '../../src/doctor/missingCauseFailures.js';

const mirrorLine = (status: number, upstream: string, connect: string, header: string, errorType = '') =>
  JSON.stringify({ v: 1, kind: 'mirror', msec: 1795000000.1, request_id: 'c'.repeat(32), status, upstream_status: upstream, upstream_connect_time: connect, upstream_header_time: header, upstream_response_time: '0.010', error_type: errorType });
const shipLine = (cause: string, status: number | null = null) =>
  JSON.stringify({ v: 1, kind: 'ship', time: '2026-11-30T03:20:00.123Z', request_id: 'd'.repeat(32), target: 'custom-domain', status, error_type: '', outcome: 'gave-up', cause, uncertain: cause === 'timeout', attempts: 3, latency_ms: 900 });

describe('doctor over the answers', () => {
  it.each([
    [mirrorLine(415, '415', '0.006', '0.008', 'UnsupportedMediaTypeException'), 'answer-415'],
    [mirrorLine(400, '400', '0.006', '0.008', 'BadRequestException'), 'answer-400'],
    [mirrorLine(403, '403', '0.006', '0.008', 'MissingAuthenticationTokenException'), 'answer-403'],
    [mirrorLine(503, '503', '0.006', '0.008'), 'answer-5xx'],
    [mirrorLine(429, '429', '0.006', '0.008', 'TooManyRequestsException'), 'answer-429'],
    [mirrorLine(504, '504', '0.000', '-'), 'answer-timeout'],
    [mirrorLine(502, '502', '0.003', '-'), 'answer-reset'],
    [mirrorLine(502, '502', '-', '-'), 'answer-connect-refused'],
    // proxy_connect_timeout ran out during the TLS handshake (measured): nothing was sent.
    [mirrorLine(504, '504', '-', '-'), 'answer-connect-timeout'],
    [mirrorLine(502, '', '', ''), 'answer-dns'],
    [shipLine('tls'), 'answer-tls'],
    [shipLine('timeout'), 'answer-timeout'],
    [shipLine('connect-refused'), 'answer-connect-refused'],
    [shipLine('body-not-captured'), 'answer-body-not-captured'],
    [shipLine('http-5xx', 502), 'answer-5xx'],
  ])('%s -> %s', (line, id) => {
    expect(diagnose([{ name: 'answers.log', text: line }]).diagnoses.map((d) => d.id)).toEqual([id]);
  });

  it('a delivered callback is no failure', () => {
    const report = diagnose([{ name: 'answers.log', text: mirrorLine(200, '200', '0.000', '0.012') }]);
    expect(report.diagnoses).toEqual([]);
    expect(report.inputs[0]).toMatchObject({ unrecognised: 1, unrecognisedErrors: 0 });
  });

  it('every cause except the catch-alls has a known failure naming its fix', () => {
    const named = new Set(missingCauseFailures.map((f) => f.title.match(/cause ([a-z0-9-]+)/)?.[1]));
    for (const cause of missingCauses.filter((c) => !['http-404', 'http-4xx', 'no-answer', 'other'].includes(c))) expect(named.has(cause), cause).toBe(true);
  });
});
