/**
 * The causes `mirror ship` writes in its ack log (docs/ship.md), which verify's ack
 * mode reads back: one list, so the writer and the reader cannot drift apart.
 */
export const shipCauses = [
  'ok',
  'http-4xx',
  'http-429',
  'http-5xx',
  'timeout',
  'connect-refused',
  'reset',
  'dns',
  'tls',
  'body-not-captured',
  'other',
] as const;
export type ShipCause = (typeof shipCauses)[number];
