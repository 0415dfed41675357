/**
 * Known failures over the answers `verify --mode ack` reads: the mirror answers log
 * nginx writes (`"kind":"mirror"`) and mirror ship's ack log (`"kind":"ship"`). One
 * entry per cause a missing callback can carry (src/verify/gatewayAnswers.ts), so
 * `mirror doctor <answers log>` names the fix for each. The lines hold no body.
 */
import type { KnownFailure } from './knownFailure.js';

const answer = '"kind":"(?:mirror|ship)"';
/**
 * An HTTP status API Gateway answered: in a mirror line the final upstream status
 * with a header time (an answer came; nginx's own 502/504 have "-"), in a ship line
 * its `status`.
 */
const answered = (status: string) =>
  new RegExp(
    `"kind":"mirror".*"upstream_status":"(?:[^"]*, )?${status}","upstream_connect_time":"[^"]*","upstream_header_time":"(?:[^"]*, )?[0-9]|"kind":"ship".*"status":${status}\\b`,
  );

export const missingCauseFailures: readonly KnownFailure[] = [
  {
    id: 'answer-415',
    source: 'api-gateway',
    title: 'API Gateway answered 415 (cause http-415)',
    pattern: answered('415'),
    cause: "the callback's Content-Type matches no mapping template and passthrough is NEVER, so API Gateway never sent it to SQS (a form-encoded callback, for one).",
    fix: "add a mapping template for that Content-Type (render apigw writes the vendor preset's), or have the vendor send its documented Content-Type.",
    change: 'vendor (preset contentType); the rendered requestTemplates',
  },
  {
    id: 'answer-400',
    source: 'api-gateway',
    title: 'API Gateway answered 400 BadRequestException (cause http-400)',
    pattern: answered('400'),
    cause: 'the request validator rejected the body: empty, not a JSON object, or (vendor-schema) not the preset\'s model.',
    fix: 'find what the vendor sent (the parity log has the body); relax apiGateway.requestValidation to json-object if the model is too strict.',
    change: 'apiGateway.requestValidation',
  },
  {
    id: 'answer-403',
    source: 'api-gateway',
    title: 'API Gateway answered 403 (cause http-403)',
    pattern: answered('403'),
    cause: 'MissingAuthenticationToken: the path lacks the stage or does not match the base path mapping; Forbidden: the resource policy, an API key, or a private-DNS VPC endpoint refused it.',
    fix: 'check the path against the stage and base path (mirror render shows the URL); check apiGateway.sourceAddresses and apiKeyFile.',
    change: 'apiGateway.stage, apiGateway.basePath, apiGateway.sourceAddresses, apiGateway.apiKeyFile',
  },
  {
    id: 'answer-429',
    source: 'api-gateway',
    title: 'API Gateway answered 429 (cause http-429)',
    pattern: answered('429'),
    cause: 'the stage or account throttled the request.',
    fix: "raise the stage's throttling limits (or the usage plan's) above the vendor's peak rate.",
    change: 'the stage throttling settings (render apigw)',
  },
  {
    id: 'answer-5xx',
    source: 'api-gateway',
    title: 'API Gateway answered 5xx (cause http-5xx)',
    pattern: answered('5\\d\\d'),
    cause: 'the integration maps every SQS error to 5xx: SQS refused the message (AccessDenied on the queue or its KMS key, a missing queue, an empty attribute) or API Gateway itself failed.',
    fix: "run mirror doctor on API Gateway's execution log for the SQS error; check the role's sqs:SendMessage and kms:GenerateDataKey.",
    change: 'sqs.queueUrl, sqs.kmsKeyArn (the rendered role policy)',
  },
  {
    id: 'answer-timeout',
    source: 'nginx',
    title: 'no answer before the read timeout (cause timeout, unknown)',
    pattern: new RegExp(`${answer}.*(?:"status":504,"upstream_status":"(?:[^"]*, )?504","upstream_connect_time":"[^"-]|"cause":"timeout")`),
    cause: 'the request was sent and API Gateway did not answer in time: the message may or may not have landed.',
    fix: 'raise mirror.readTimeout a little (it holds the vendor connection: at most 5s), and check API Gateway latency; verify --mode peek settles the unknowns.',
    change: 'mirror.readTimeout',
  },
  {
    id: 'answer-connect-timeout',
    source: 'nginx',
    title: 'the connection or its TLS handshake timed out (cause timeout, nothing sent)',
    // 504 with no connect time: proxy_connect_timeout ran out before the handshake completed (nginx 1.22, measured).
    pattern: new RegExp(`${answer}.*"status":504,"upstream_status":"(?:[^"]*, )?504","upstream_connect_time":"(?:[^"]*, )?-"`),
    cause: 'nothing was sent: connecting to API Gateway, TLS handshake included, took longer than mirror.connectTimeout (a slow or overloaded path, or a busy host).',
    fix: 'raise mirror.connectTimeout a little (it covers the TLS handshake), and check the network path and this host\'s load.',
    change: 'mirror.connectTimeout',
  },
  {
    id: 'answer-connect-refused',
    source: 'nginx',
    title: 'connection refused (cause connect-refused)',
    pattern: new RegExp(`${answer}.*(?:"upstream_connect_time":"(?:[^"]*, )?-","upstream_header_time"|"cause":"connect-refused")`),
    cause: 'nothing was sent: the connection to API Gateway failed (a wrong port, egress blocked by a security group or proxy, or the address is not API Gateway).',
    fix: 'check egress from this host to the target on apiGateway.port, and what the name resolves to.',
    change: 'apiGateway.port, resolver.addresses',
  },
  {
    id: 'answer-reset',
    source: 'nginx',
    title: 'connection reset after sending (cause reset, unknown)',
    pattern: new RegExp(`${answer}.*(?:"status":502,"upstream_status":"(?:[^"]*, )?502","upstream_connect_time":"[^"-][^"]*","upstream_header_time":"(?:[^"]*, )?-"|"cause":"reset")`),
    cause: 'the connection closed after the request was sent and before an answer: the message may or may not have landed.',
    fix: 'look for a proxy or load balancer in the path that closes idle or long connections; verify --mode peek settles the unknowns.',
    change: 'the network path to API Gateway',
  },
  {
    id: 'answer-dns',
    source: 'nginx',
    title: 'the API Gateway host did not resolve (cause dns)',
    pattern: new RegExp(`${answer}.*(?:"status":502,"upstream_status":"",|"cause":"dns")`),
    cause: 'nginx could not resolve the target host at run time: no resolver in scope, a resolver that never answers or refuses, or a wrong host name.',
    fix: "run mirror doctor on nginx's error log: it names which of the resolver failures it was.",
    change: 'resolver.addresses, apiGateway.restApiId, apiGateway.customDomain',
  },
  {
    id: 'answer-tls',
    source: 'nginx',
    title: 'TLS failed (cause tls)',
    pattern: new RegExp(`${answer}.*"cause":"tls"`),
    cause: "the TLS handshake or the certificate check failed: a wrong trust store, or SNI that does not name the target.",
    fix: 'check apiGateway.trustedCertificate and that the host name matches the certificate.',
    change: 'apiGateway.trustedCertificate',
  },
  {
    id: 'answer-body-not-captured',
    source: 'nginx',
    title: 'body not captured in the parity log (cause body-not-captured)',
    pattern: new RegExp(`${answer}.*"cause":"body-not-captured"`),
    cause: 'nginx spilled the body to a temp file (larger than client_body_buffer_size) and logged it empty, so mirror ship could not send it.',
    fix: 'raise callback.bodyBufferSize above the largest callback (mirror validate warns below the preset\'s largest), at most 1m.',
    change: 'callback.bodyBufferSize',
  },
];
