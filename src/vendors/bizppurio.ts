import type { VendorPreset } from './preset.js';

/**
 * Bizppurio delivery results (KakaoTalk AlimTalk / SMS): one JSON object per
 * result, all values strings.
 * Source: https://biztech.gitbook.io/webapi/api/undefined/dispatch-result
 */
export const bizppurio: VendorPreset = {
  id: 'bizppurio',
  displayName: 'Bizppurio',
  summary: 'Bizppurio delivery results (KakaoTalk AlimTalk, SMS/LMS/MMS, RCS)',
  defaultCallbackPath: '/api/kakao/result',
  defaultResourcePath: '/kakao-at-result',
  // The dispatch-result page gives no field lengths. Its 19 string fields are codes,
  // keys, times and a phone number, plus USERDATA and REFKEY that echo what the
  // customer sent: a real callback is well under 4 KiB (FINDINGS.md). 16 KiB bounds
  // it with room for long USERDATA/REFKEY values; an assumption, not a published limit.
  maxCallbackBytes: 16 * 1024,
  contentType: 'application/json',
  // A fallback send (AlimTalk failing over to SMS) yields several results for one
  // MSGID, one per medium; a retry repeats the medium with another result code.
  identifyingFields: ['MSGID', 'MEDIA', 'RESULT'],
  identifyingFieldsReason:
    'MSGID alone is not unique: an AlimTalk that falls back to SMS reports once per MEDIA, so join on MSGID + MEDIA + RESULT',
  personalFields: ['PHONE', 'TO_NAME'],
  // Required and optional fields of the dispatch-result page; every value a string.
  requestModel: {
    $schema: 'http://json-schema.org/draft-04/schema#',
    title: 'BizppurioResult',
    type: 'object',
    required: ['DEVICE', 'CMSGID', 'MSGID', 'PHONE', 'MEDIA', 'UNIXTIME', 'RESULT'],
    properties: Object.fromEntries(
      ['DEVICE', 'CMSGID', 'MSGID', 'PHONE', 'MEDIA', 'UNIXTIME', 'RESULT', 'TO_NAME', 'USERDATA', 'WAPINFO', 'TELRES', 'TELTIME', 'KAORES', 'KAOTIME', 'RCSRES', 'RCSTIME', 'RETRY_FLAG', 'RESEND_FLAG', 'REFKEY'].map((field) => [
        field,
        { type: 'string' },
      ]),
    ),
  },
  sampleCallback(seq: number): Record<string, string> {
    const unixTime = String(1_764_000_000 + seq);
    return {
      DEVICE: 'KAT',
      CMSGID: `cm${String(seq).padStart(10, '0')}`,
      MSGID: `${unixTime}kat${String(seq).padStart(6, '0')}`,
      PHONE: `0101234${String(seq % 10_000).padStart(4, '0')}`,
      MEDIA: 'KAT',
      TO_NAME: '홍길동',
      UNIXTIME: unixTime,
      RESULT: '7000',
      USERDATA: '',
      WAPINFO: 'KAO',
      REFKEY: `order-${seq}`,
    };
  },
};
