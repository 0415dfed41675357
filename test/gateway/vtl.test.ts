/**
 * Mapping templates rendered by the stand-in, then decoded as SQS decodes them: the
 * body must arrive byte-exact through a template that urlEncodes it, and must not
 * through the seed's template that does not. `$util` is checked against Java (the
 * JDK's URLEncoder/URLDecoder and Commons Lang), recorded below and, where a JDK is
 * installed, live.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MappingTemplateError } from '../../src/gateway/gatewayErrors.js';
import { decodeSendMessage } from '../../src/gateway/sqsQuery.js';
import { escapeJavaScript, javaUrlDecode, javaUrlEncode, renderMappingTemplate, type MappingRequest } from '../../src/gateway/vtl.js';

/** The template a correct integration uses: body urlEncoded, header copied only when present. */
const sendMessageTemplate =
  'Action=SendMessage&MessageBody=$util.urlEncode($input.body)' +
  "#set($rid = $input.params().header.get('X-Mirror-Request-Id'))" +
  '#if($rid && $rid != "")&MessageAttribute.1.Name=mirror-request-id&MessageAttribute.1.Value.DataType=String&MessageAttribute.1.Value.StringValue=$util.urlEncode($rid)#end';
/** The seed's template: the documented defect. */
const seedTemplate = 'Action=SendMessage&MessageBody=$input.body';

function request(overrides: Partial<MappingRequest> = {}): MappingRequest {
  return {
    body: '{}',
    headers: {},
    query: {},
    path: {},
    requestId: 'c0ffee00-1111-2222-3333-444455556666',
    stage: 'dev',
    resourcePath: '/kakao-at-result',
    httpMethod: 'POST',
    sourceIp: '203.0.113.7',
    ...overrides,
  };
}

/** Render, then decode the integration request as SQS would. */
function throughTemplate(template: string, overrides: Partial<MappingRequest>) {
  const rendered = renderMappingTemplate(template, request(overrides));
  const decoded = decodeSendMessage({ path: '/123456789012/kakao-at-result', contentType: 'application/x-www-form-urlencoded', body: rendered });
  if (!decoded.ok) throw new Error(`${decoded.code}: ${decoded.message} (rendered: ${rendered})`);
  return decoded.input;
}

const bizppurioCallback = JSON.stringify({ DEVICE: 'KAT', CMSGID: 'c-1', MSGID: 'm-1', PHONE: '01012345678', MEDIA: 'KAT', TO_NAME: '홍길동', UNIXTIME: '1704067200', RESULT: '7000', USERDATA: 'a+b&c=d%20e' });
const trickyBodies = [
  bizppurioCallback,
  '카카오 알림톡 결과',
  '🎉🚀 👍🏽 𝄞',
  '& = + % &amp; a+b&c=d%20e 100% %%',
  '+',
  '&',
  '=',
  '%41',
  '&MessageBody=evil',
  `"double" 'single'`,
  'C:\\path\\to \\n not a newline',
  'line1\nline2\r\nline3',
  'tab\there',
  '<xml>&lt;</xml>',
  ' ',
  '  padded  ',
  "*~!'()",
  '$input.body #set($x = 1) ## not VTL: the body is data',
];

describe('a SendMessage template that urlEncodes the body', () => {
  it.each(trickyBodies.map((b) => [JSON.stringify(b).slice(0, 40), b]))('delivers the body byte-exact: %s', (_name, body) => {
    expect(throughTemplate(sendMessageTemplate, { body }).messageBody).toBe(body);
  });

  it('copies the request-id header into a message attribute when sent in the case the template names it, and only then (no recording: the stricter reading)', () => {
    const input = throughTemplate(sendMessageTemplate, { body: 'x', headers: { 'X-Mirror-Request-Id': 'f'.repeat(32) } });
    expect(input.messageAttributes).toEqual({ 'mirror-request-id': { dataType: 'String', stringValue: 'f'.repeat(32) } });
    for (const name of ['x-mirror-request-id', 'X-MIRROR-REQUEST-ID']) {
      expect(throughTemplate(sendMessageTemplate, { body: 'x', headers: { [name]: 'f'.repeat(32) } }).messageAttributes).toEqual({});
    }
  });

  it('leaves the attribute out when the header is absent or empty (SQS rejects an empty value)', () => {
    expect(throughTemplate(sendMessageTemplate, { body: 'x', headers: {} }).messageAttributes).toEqual({});
    expect(throughTemplate(sendMessageTemplate, { body: 'x', headers: { 'x-mirror-request-id': '' } }).messageAttributes).toEqual({});
  });

  it('delivers any body SQS allows (property)', () => {
    const allowedCharacter = fc.oneof(
      fc.constantFrom('&', '=', '+', '%', ' ', '#', '$', '\\', '"', "'", '<', '>', '\t', '\n', '\r', '~', '*', '!', '(', ')'),
      fc.integer({ min: 0x20, max: 0xd7ff }).map((c) => String.fromCodePoint(c)),
      fc.integer({ min: 0xe000, max: 0xfffd }).map((c) => String.fromCodePoint(c)),
      fc.integer({ min: 0x10000, max: 0x10ffff }).map((c) => String.fromCodePoint(c)),
    );
    fc.assert(
      fc.property(fc.string({ unit: allowedCharacter, minLength: 1, maxLength: 60 }), (body) => {
        expect(throughTemplate(sendMessageTemplate, { body }).messageBody).toBe(body);
      }),
      { numRuns: 300 },
    );
  });
});

describe("the seed's template (MessageBody=$input.body, no urlEncode)", () => {
  it.each([
    ['a+b', 'a b'],
    ['x&y=z', 'x'],
    ['discount %41', 'discount A'],
    [bizppurioCallback, bizppurioCallback.slice(0, bizppurioCallback.indexOf('&')).replace(/\+/g, ' ')],
  ])('changes %j into %j: + becomes a space, the body splits at &, %XX is decoded', (sent, landed) => {
    const body = throughTemplate(seedTemplate, { body: sent }).messageBody;
    expect(body).toBe(landed);
    expect(body).not.toBe(sent);
  });
});

/** Recorded from OpenJDK 17 (URLEncoder.encode(s, "UTF-8")) and Commons Lang 3.12 (escapeEcmaScript). */
const javaTable: [string, string, string][] = [
  [' ', '+', ' '],
  ['*', '*', '*'],
  ['-', '-', '-'],
  ['.', '.', '.'],
  ['_', '_', '_'],
  ['!', '%21', '!'],
  ["'", '%27', "\\'"],
  ['(', '%28', '('],
  [')', '%29', ')'],
  ['~', '%7E', '~'],
  ['+', '%2B', '+'],
  ['&', '%26', '&'],
  ['=', '%3D', '='],
  ['%', '%25', '%'],
  ['/', '%2F', '\\/'],
  [':', '%3A', ':'],
  ['?', '%3F', '?'],
  ['#', '%23', '#'],
  ['"', '%22', '\\"'],
  ['\\', '%5C', '\\\\'],
  ['<', '%3C', '<'],
  ['\t', '%09', '\\t'],
  ['\n', '%0A', '\\n'],
  ['\r', '%0D', '\\r'],
  ['\u007f', '%7F', '\u007f'],
  ['é', '%C3%A9', '\\u00E9'],
  ['한', '%ED%95%9C', '\\uD55C'],
  ['€', '%E2%82%AC', '\\u20AC'],
  ['😀', '%F0%9F%98%80', '\\uD83D\\uDE00'],
  ['\uD83D', '%3F', '\\uD83D'],
];

describe('$util against Java', () => {
  it.each(javaTable)('urlEncode and escapeJavaScript of %j match Java', (text, encoded, escaped) => {
    expect(javaUrlEncode(text)).toBe(encoded);
    expect(escapeJavaScript(text)).toBe(escaped);
    expect(renderMappingTemplate('$util.urlEncode($input.body)|$util.escapeJavaScript($input.body)', request({ body: text }))).toBe(`${encoded}|${escaped}`);
  });

  it('differs from encodeURIComponent exactly where Java does', () => {
    expect(javaUrlEncode("a b*c!d'e(f)g~h")).toBe('a+b*c%21d%27e%28f%29g%7Eh');
    expect(encodeURIComponent("a b*c!d'e(f)g~h")).toBe("a%20b*c!d'e(f)g~h");
  });

  it('urlDecode reads + as a space and either hex case, and refuses a broken escape as Java does', () => {
    expect(javaUrlDecode('a+b%2b%e2%82%AC')).toBe('a b+€');
    expect(() => javaUrlDecode('100%')).toThrow(MappingTemplateError);
    expect(() => javaUrlDecode('%zz')).toThrow(MappingTemplateError);
  });

  const jar = '/usr/share/java/commons-lang3.jar';
  const javaReady = spawnSync('java', ['-version']).status === 0 && existsSync(jar);
  it.skipIf(!javaReady)('match a live JDK on generated strings, lone surrogates included', () => {
    const strings = [
      ...javaTable.map(([t]) => t),
      ...fc.sample(fc.string({ unit: 'binary', maxLength: 40 }), { numRuns: 300, seed: 7 }),
      ...fc.sample(fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength: 20 }), { numRuns: 200, seed: 11 }),
    ];
    const dir = mkdtempSync(join(tmpdir(), 'java-oracle-'));
    writeFileSync(join(dir, 'Oracle.java'), javaOracle);
    const hex = (s: string) => (s === '' ? '-' : Buffer.from(s, 'utf16le').swap16().toString('hex'));
    const unhex = (h: string) => (h === '-' ? '' : Buffer.from(h, 'hex').swap16().toString('utf16le'));
    const run = spawnSync('java', ['-cp', jar, join(dir, 'Oracle.java')], { input: strings.map(hex).join('\n') + '\n', encoding: 'utf8', timeout: 60_000 });
    expect(run.status, run.stderr).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines).toHaveLength(strings.length);
    strings.forEach((text, i) => {
      const [encoded, decoded, escaped] = lines[i]!.split(' ').map(unhex);
      expect(javaUrlEncode(text), JSON.stringify(text)).toBe(encoded);
      expect(javaUrlDecode(javaUrlEncode(text)), JSON.stringify(text)).toBe(decoded);
      expect(escapeJavaScript(text), JSON.stringify(text)).toBe(escaped);
    });
  });
});

describe('$input, $util and $context (mapping template reference)', () => {
  const callback = request({
    body: JSON.stringify({ MSGID: 'm-1', RESULT: '7000', list: [{ id: 1 }, { id: 2 }, { id: 3 }], nested: { a: { b: 'deep' } } }),
    headers: { 'X-Mirror-Request-Id': 'from-header', both: 'header-value', Host: 'callbacks.example.com' },
    query: { both: 'query-value', q: 'query-only' },
    path: { both: 'path-value' },
  });
  const render = (template: string, r = callback) => renderMappingTemplate(template, r);

  it('$input.json returns JSON text, $input.path returns values VTL can call .size() and .get() on', () => {
    expect(render("$input.json('$')")).toBe(callback.body);
    expect(render("$input.json('$.list[1]')|$input.json('$.MSGID')|$input.json('$.nested.a')|$input.json('$.missing')")).toBe('{"id":2}|"m-1"|{"b":"deep"}|null');
    expect(render("$input.path('$.MSGID')|$input.path('$.list').size()|$input.path('$.list').get(2).id|$input.path('$.nested').get('a').b|$input.path(\"$['RESULT']\")")).toBe('m-1|3|3|deep|7000');
    expect(render("$input.path('$.MSGID').length()")).toBe('3');
  });

  it('the guide\'s own examples render as the guide says', () => {
    const things = request({ body: '{"things":{"1":{},"2":{},"3":{}}}', path: { id: 'abc' } });
    expect(render(`{"id" : "$input.params('id')", "count" : "$input.path('$.things').size()"}`, things)).toBe('{"id" : "abc", "count" : "3"}');
    const error = request({ body: '{"errorMessage":"{\\"key1\\":\\"var1\\",\\"key2\\":{\\"arr\\":[1,2,3]}}"}' });
    expect(render("#set ($errorMessageObj = $util.parseJson($input.path('$.errorMessage')))$errorMessageObj.key2.arr[0]", error)).toBe('1');
    expect(render(`$util.escapeJavaScript("it's").replaceAll("\\\\'","'")`)).toBe("it's");
  });

  it('$input.params(x) searches path, then query string, then header; "" when absent', () => {
    expect(render("$input.params('both')")).toBe('path-value');
    expect(render("$input.params('both')", { ...callback, path: {} })).toBe('query-value');
    expect(render("$input.params('both')", { ...callback, path: {}, query: {} })).toBe('header-value');
    expect(render("$input.params('X-Mirror-Request-Id')|$input.params('q')|[$input.params('missing')]|[$input.params('constructor')]")).toBe('from-header|query-only|[]|[]');
    // Another case than sent: not found (docs/apigw.md, header names).
    expect(render("[$input.params('x-mirror-request-id')][$input.params().header.get('host')]")).toBe('[][]');
  });

  it('$input.params() is the path, querystring and header maps', () => {
    expect(render('#foreach($type in $input.params().keySet())$type=$input.params().get($type).size();#end')).toBe('path=1;querystring=2;header=3;');
    expect(render("$input.params().header.get('Host')|$input.params().querystring.get('q')|[$!input.params().header.get('none')]")).toBe('callbacks.example.com|query-only|[]');
    expect(render('$input.params().header.size()|$input.params().header.isEmpty()')).toBe('3|false');
  });

  it('$context carries the request id, stage, resource path, method, source IP, account and API id', () => {
    const withIds = { ...callback, accountId: '123456789012', apiId: 'a1b2c3d4e5' };
    expect(render('$context.requestId $context.stage $context.resourcePath $context.httpMethod $context.identity.sourceIp $context.accountId $context.apiId', withIds)).toBe(
      'c0ffee00-1111-2222-3333-444455556666 dev /kakao-at-result POST 203.0.113.7 123456789012 a1b2c3d4e5',
    );
  });

  it('Java string methods and VTL conditionals behave as in a real template', () => {
    const t = "#set($v = $input.params('q'))#if($v && $v != \"\")[$v.length()|$v.isEmpty()|$v.contains('only')|$v.equals('query-only')]#end#set($e = '')#if($e && $e != \"\")never#end#if($e.isEmpty())empty#end$!{notSet}|$!notSet";
    expect(render(t)).toBe('[10|false|true|true]empty|');
  });

  it('base64 and url round trips', () => {
    expect(render('$util.base64Encode("한글 🎉")|$util.base64Decode($util.base64Encode("한글 🎉"))|$util.urlDecode($util.urlEncode("a+b c&d"))')).toBe(
      `${Buffer.from('한글 🎉').toString('base64')}|한글 🎉|a+b c&d`,
    );
  });

  it('fails the transformation (API Gateway: 500) on a non-JSON body read as JSON, an unrecorded $util null argument or unsupported JSONPath', () => {
    expect(() => render("$input.json('$')", request({ body: 'MSGID=1&RESULT=2' }))).toThrow(MappingTemplateError);
    // Recorded on AWS: urlEncode(null) renders empty; the unrecorded ones stay strict.
    expect(render("[$util.urlEncode($input.params().header.get('absent'))]")).toBe('[]');
    expect(() => render("$util.urlDecode($input.params().header.get('absent'))")).toThrow(MappingTemplateError);
    expect(() => render("$input.path('$..MSGID')")).toThrow(MappingTemplateError);
    expect(render('$input.body', request({ body: 'MSGID=1&RESULT=2' }))).toBe('MSGID=1&RESULT=2');
    expect(render("$input.json('$')", request({ body: '' }))).toBe('{}');
  });
});

/** Reads strings as hex UTF-16 code units, one per line (so lone surrogates survive the pipe). */
const javaOracle = `
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import org.apache.commons.lang3.StringEscapeUtils;

public class Oracle {
  static String hex(String s) {
    StringBuilder out = new StringBuilder();
    for (char c : s.toCharArray()) out.append(String.format("%04x", (int) c));
    return out.length() == 0 ? "-" : out.toString();
  }
  static String unhex(String h) {
    if (h.equals("-")) return "";
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < h.length(); i += 4) out.append((char) Integer.parseInt(h.substring(i, i + 4), 16));
    return out.toString();
  }
  public static void main(String[] args) throws Exception {
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.US_ASCII));
    for (String line; (line = in.readLine()) != null; ) {
      String s = unhex(line);
      String encoded = URLEncoder.encode(s, "UTF-8");
      System.out.println(hex(encoded) + " " + hex(URLDecoder.decode(encoded, "UTF-8")) + " " + hex(StringEscapeUtils.escapeEcmaScript(s)));
    }
  }
}
`;
