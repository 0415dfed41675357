/** The shipper's pure core: which lines go, where the checkpoint may move, what an attempt's answer means. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decideShipLine } from '../../src/ship/shipLine.js';
import { ShipWatermark } from '../../src/ship/shipWatermark.js';
import { checkpointText, parseCheckpoint, startOffset } from '../../src/ship/shipCheckpoint.js';
import { failureOfError, judgeAttempt, retryOptions } from '../../src/ship/shipRetry.js';
import { ackRecord } from '../../src/ship/ackRecord.js';
import { numberedRequestId } from '../support/parityLog.js';

/** A parity-log line as nginx's escape=json writes it: JSON escapes for " \ and controls, bytes above 0x7F raw. */
function nginxLine(fields: Record<string, string | number>, body: Buffer): Buffer {
  let escaped = '';
  for (const byte of body) {
    if (byte === 0x22) escaped += '\\"';
    else if (byte === 0x5c) escaped += '\\\\';
    else if (byte < 0x20) escaped += `\\u${byte.toString(16).padStart(4, '0')}`;
    else escaped += String.fromCharCode(byte);
  }
  const head = JSON.stringify(fields).slice(0, -1);
  return Buffer.concat([Buffer.from(head, 'latin1'), Buffer.from(`,"body":"`), Buffer.from(escaped, 'latin1'), Buffer.from('"}')]);
}

const base = (over: Record<string, string | number> = {}) => ({
  v: 1, msec: 1764472800.5, request_time: 0.25, request_id: numberedRequestId(7), method: 'POST', uri: '/api/kakao/result',
  status: 200, content_type: 'application/json', phase: 'shadow', apigw: '1', upstream_status: '200', probe: '', ...over,
});

describe('which lines are sent', () => {
  it('sends the body byte for byte, even when it is not UTF-8, with query, content type and receive time', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 300 }), (bytes) => {
        const body = Buffer.from(bytes);
        const decision = decideShipLine(nginxLine(base({ content_length: String(body.length), uri: '/api/kakao/result?sig=a%2Bb' }), body));
        expect(decision.kind).toBe('send');
        if (decision.kind !== 'send') return;
        expect(decision.item.body.equals(body)).toBe(true);
        expect(decision.item.query).toBe('?sig=a%2Bb');
        expect(decision.item.receivedMs).toBe(1764472800250);
        expect(decision.item.target).toBe('execute-api');
      }),
    );
  });

  it('sends shadow-domain lines to the custom domain and carries the probe mark', () => {
    const d = decideShipLine(nginxLine(base({ phase: 'shadow-domain', probe: 'p-1', content_length: '2' }), Buffer.from('{}')));
    expect(d).toMatchObject({ kind: 'send', item: { target: 'custom-domain', probe: 'p-1' } });
  });

  it('names a callback whose body nginx did not keep, and never sends it empty', () => {
    expect(decideShipLine(nginxLine(base({ content_length: '100030' }), Buffer.alloc(0)))).toEqual({
      kind: 'not-captured', requestId: numberedRequestId(7), receivedMs: 1764472800250, target: 'execute-api',
    });
    // No Content-Length field (an older render): an empty body cannot be told from a lost one.
    expect(decideShipLine(nginxLine(base(), Buffer.alloc(0))).kind).toBe('not-captured');
    // A callback that really was empty is what nginx received: it goes.
    expect(decideShipLine(nginxLine(base({ content_length: '0' }), Buffer.alloc(0))).kind).toBe('send');
  });

  it('skips other phases, unsampled callbacks and lines that are not parity-log lines', () => {
    expect(decideShipLine(nginxLine(base({ phase: 'off', apigw: '' }), Buffer.from('{}')))).toEqual({ kind: 'skip', reason: 'other-phase' });
    expect(decideShipLine(nginxLine(base({ phase: 'primary' }), Buffer.from('{}')))).toEqual({ kind: 'skip', reason: 'other-phase' });
    expect(decideShipLine(nginxLine(base({ apigw: '' }), Buffer.from('{}')))).toEqual({ kind: 'skip', reason: 'not-sampled' });
    expect(decideShipLine(Buffer.from('{"half":'))).toEqual({ kind: 'skip', reason: 'unparseable' });
    expect(decideShipLine(Buffer.from('{"request_id":"x"}'))).toEqual({ kind: 'skip', reason: 'unparseable' });
  });
});

describe('the checkpoint watermark', () => {
  it('moves only past lines whose answers, and all before them, are final, whatever the order of answers', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }).chain((n) => fc.tuple(fc.constant(n), fc.shuffledSubarray([...Array(n).keys()], { minLength: n, maxLength: n }))), ([n, order]) => {
        const w = new ShipWatermark();
        w.start('1:2', 100);
        const tickets = [...Array(n).keys()].map((i) => w.add('1:2', 100 + (i + 1) * 10));
        const finished = new Set<number>();
        for (const i of order) {
          w.finish(tickets[i]!);
          finished.add(i);
          let prefix = 0;
          while (finished.has(prefix)) prefix++;
          expect(w.committed('1:2')).toBe(100 + prefix * 10);
        }
        expect(w.outstanding).toBe(0);
      }),
    );
  });

  it('keeps files apart and forgets only a fully committed one', () => {
    const w = new ShipWatermark();
    const a = w.add('1:1', 10);
    w.add('1:2', 20);
    w.finish(a);
    expect(w.entries()).toEqual([{ fileId: '1:1', offset: 10 }, { fileId: '1:2', offset: 0 }]);
    expect(w.forget('1:2')).toBe(false);
    expect(w.forget('1:1')).toBe(true);
  });
});

describe('the checkpoint document', () => {
  it('round-trips and resumes a file by identity, from 0 when the file is now shorter', () => {
    const text = checkpointText([{ id: '2049:77', path: '/l/parity.log', offset: 4096 }], new Date('2026-11-30T03:00:00Z'));
    const parsed = parseCheckpoint(text);
    expect(parsed.ok).toBe(true);
    const cp = parsed.ok ? parsed.checkpoint : undefined;
    expect(startOffset(cp, '2049:77', 5000)).toBe(4096);
    expect(startOffset(cp, '2049:77', 100)).toBe(0);
    expect(startOffset(cp, '2049:78', 5000)).toBe(0);
    expect(parseCheckpoint('{"v":1,"time":"x","files":[{"id":"a","path":"p","offset":1}]}')).toMatchObject({ ok: false });
    expect(parseCheckpoint('nope')).toEqual({ ok: false, reason: 'not JSON' });
  });
});

describe('the retry decision', () => {
  it.each([
    [200, 'ok', false, true],
    [204, 'ok', false, true],
    [429, 'http-429', true, false],
    [500, 'http-5xx', true, false],
    [503, 'http-5xx', true, false],
    [400, 'http-4xx', false, false],
    [403, 'http-4xx', false, false],
    [415, 'http-4xx', false, false],
  ])('HTTP %i: cause %s, retried %s, delivered %s', (status, cause, retry, delivered) => {
    expect(judgeAttempt({ kind: 'answer', status, errorType: '' })).toEqual({ cause, retry, delivered, uncertain: false });
  });

  it.each([
    [{ code: 'ECONNREFUSED' }, 'connect-refused', false],
    [{ code: 'UND_ERR_CONNECT_TIMEOUT' }, 'timeout', false],
    [{ code: 'UND_ERR_HEADERS_TIMEOUT' }, 'timeout', true],
    [{ code: 'ECONNRESET' }, 'reset', true],
    [{ code: 'UND_ERR_SOCKET', cause: { code: 'ECONNRESET' } }, 'reset', true],
    [{ code: 'ENOTFOUND', syscall: 'queryA' }, 'dns', false],
    [{ code: 'ECONNREFUSED', syscall: 'queryA' }, 'dns', false],
    [{ code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' }, 'tls', false],
    [{ code: 'ERR_TLS_CERT_ALTNAME_INVALID' }, 'tls', false],
    [{ message: 'odd' }, 'other', true],
  ])('error %j: cause %s, retried, uncertain %s', (error, cause, uncertain) => {
    const failure = failureOfError(Object.assign(new Error('x'), error));
    expect(failure.cause).toBe(cause);
    expect(judgeAttempt(failure)).toEqual({ cause, retry: true, delivered: false, uncertain });
  });

  it('stops retrying at the give-up age, counted from when nginx received the callback', () => {
    const settings = { retries: 5, minBackoffMs: 100, maxBackoffMs: 2000, giveUpAfterMs: 60_000 };
    expect(retryOptions(settings, 1_000_000, 1_010_000)).toMatchObject({ retries: 5, minTimeout: 100, maxTimeout: 2000, randomize: true, maxRetryTime: 50_000 });
    expect(retryOptions(settings, 1_000_000, 2_000_000).maxRetryTime).toBe(0);
  });
});

describe('the ack record', () => {
  it('holds the contract fields and never a body', () => {
    const record = ackRecord({
      requestId: numberedRequestId(1), target: 'custom-domain', outcome: 'gave-up', cause: 'timeout', status: 503, errorType: 'ServiceUnavailable',
      uncertain: true, attempts: 4, firstAttemptMs: Date.parse('2026-11-30T03:19:59.000Z'), finalMs: Date.parse('2026-11-30T03:20:00.123Z'),
    });
    expect(record).toEqual({
      v: 1, kind: 'ship', time: '2026-11-30T03:20:00.123Z', request_id: numberedRequestId(1), target: 'custom-domain', status: 503,
      error_type: 'ServiceUnavailable', outcome: 'gave-up', cause: 'timeout', uncertain: true, attempts: 4, latency_ms: 1123,
    });
  });
});
