/**
 * The names nginx, the API Gateway template and verify agree on: the rendered nginx
 * config sends the probe header, the gateway's mapping template turns the request id
 * and the probe header into SQS message attributes, and verify reads them back. One
 * module so a rename cannot reach one side only.
 */

/** The SQS message attribute carrying nginx's `$request_id`, the comparator's default join key. */
export const requestIdAttribute = 'mirror-request-id';
/** The SQS message attribute that marks a synthetic callback sent by `mirror probe`. */
export const probeAttribute = 'mirror-probe';
/** The header `mirror probe` marks its synthetic callbacks with; the API Gateway template turns it into `mirror-probe`. */
export const probeHeader = 'X-Mirror-Probe';
