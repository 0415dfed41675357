/**
 * Callback bodies that break careless plumbing: the vendor's own shape (from its
 * preset) with values carrying Korean text, emoji, form-encoding metacharacters
 * (`& = + %`), quotes, backslashes and escaped newlines. A path that re-encodes,
 * form-decodes or unescapes anything on the way changes at least one of them.
 */
import { Pool } from 'undici';
import type { VendorPreset } from '../vendors/preset.js';

const awkward = [
  '홍길동 님, 주문하신 상품이 발송되었습니다',
  'emoji 🎉🚀 and a ZWJ family 👨‍👩‍👧',
  'a=1&b=2+3%20&c=%2B',
  'say "hello" and \'bye\'',
  'back\\slash \\n not a newline \\u0041',
  'line one\nline two\r\ntab\there',
  '100% + 50% = 150%?',
  '<script>alert(1)</script> & &amp;',
  '',
];

export function trickyCallback(vendor: VendorPreset, seq: number): string {
  const fields = vendor.sampleCallback(seq);
  const pick = (offset: number) => awkward[(seq + offset) % awkward.length]!;
  const body: Record<string, string> = {
    ...fields,
    TO_NAME: `${pick(0)} #${seq}`,
    USERDATA: pick(3),
    REFKEY: `${fields.REFKEY ?? seq}&x=${pick(5)}`,
  };
  // Some callbacks as the vendor might pretty-print them: real newlines between fields.
  return seq % 7 === 0 ? JSON.stringify(body, null, 2) : JSON.stringify(body);
}

export interface SendResult {
  body: string;
  status: number;
  responseBody: string;
}

/**
 * POSTs each body on a few keepalive connections, as a vendor's HTTP client does
 * (FINDINGS.md fact 7: keepalive is what makes a slow mirror hurt).
 */
export async function sendCallbacks(
  url: string,
  bodies: readonly string[],
  options: { connections?: number; contentType?: string } = {},
): Promise<SendResult[]> {
  const target = new URL(url);
  const connections = options.connections ?? 4;
  const pool = new Pool(target.origin, { connections, pipelining: 1 });
  const results: SendResult[] = new Array(bodies.length);
  let next = 0;
  try {
    await Promise.all(
      Array.from({ length: connections }, async () => {
        while (next < bodies.length) {
          const i = next++;
          const body = bodies[i]!;
          const res = await pool.request({
            method: 'POST',
            path: target.pathname + target.search,
            headers: { 'content-type': options.contentType ?? 'application/json' },
            body,
          });
          results[i] = { body, status: res.statusCode, responseBody: await res.body.text() };
        }
      }),
    );
  } finally {
    await pool.close();
  }
  return results;
}
