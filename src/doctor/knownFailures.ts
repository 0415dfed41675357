/**
 * The failures `mirror doctor` recognises: each a pattern over one log line, the
 * cause in one sentence, the fix, and the config key (or rendered line) to change.
 * Sources: FINDINGS.md (measured with nginx 1.22.1) and the AWS pages named there.
 * Order matters: the first pattern that matches a line claims it.
 */
import { missingCauseFailures } from './missingCauseFailures.js';

type FailureSource = 'nginx' | 'api-gateway' | 'sqs';

export interface KnownFailure {
  id: string;
  source: FailureSource;
  title: string;
  pattern: RegExp;
  cause: string;
  fix: string;
  /** Config key to change, or the rendered directive when no key covers it. */
  change: string;
}

export const knownFailures: readonly KnownFailure[] = [
  // First: an answers-log line names an upstream error a later pattern would also claim.
  ...missingCauseFailures,
  {
    id: 'no-resolver',
    source: 'nginx',
    title: 'no resolver defined',
    pattern: /no resolver defined to resolve/,
    // FINDINGS.md, measured with nginx 1.22: a variable anywhere in the URL, even only
    // in the path (`https://host/dev$request_uri`, the seed's form), makes nginx resolve
    // the host per request.
    cause:
      'the proxy_pass URL has a variable (in the host, or only in the path as in the seed\'s `https://….amazonaws.com/dev$request_uri`), so nginx resolves the host at run time, and no `resolver` is in scope (nginx -t does not catch this).',
    fix: 'put a `resolver` in the mirror location (or make the whole URL literal, which nginx resolves once at load): `mirror render` does the former; `mirror lint` finds the gap in a hand-written config.',
    change: 'resolver.addresses (rendered `resolver` line of the mirror location)',
  },
  {
    id: 'resolve-timeout',
    source: 'nginx',
    title: 'could not be resolved (110: Operation timed out)',
    pattern: /could not be resolved \(110: Operation timed out\)/,
    cause: 'the resolver never answered: it is unreachable from this host (a public resolver blocked by egress rules, a wrong address, or nothing listening).',
    fix: 'use a resolver this host can reach; in a VPC that is 169.254.169.253 (or the VPC base +2 address).',
    change: 'resolver.addresses',
  },
  {
    id: 'resolve-refused',
    source: 'nginx',
    title: 'could not be resolved (5: Operation refused)',
    pattern: /could not be resolved \(5: Operation refused\)/,
    cause: 'the resolver refused the query: it does not recurse for this host, or it refuses the AAAA query nginx also sends unless ipv6=off.',
    fix: 'keep `ipv6=off` (resolver.ipv6: false) and point the resolver at one that recurses for this host.',
    change: 'resolver.ipv6, resolver.addresses',
  },
  {
    id: 'resolve-not-found',
    source: 'nginx',
    title: 'could not be resolved (3: Host not found)',
    pattern: /could not be resolved \(3: Host not found\)/,
    cause: 'the name does not exist for this resolver: a wrong REST API id or region, a custom domain not created yet, or a private hosted zone that hides it.',
    fix: 'check the host in the error line against the API (aws apigateway get-rest-apis) and the custom domain.',
    change: 'apiGateway.restApiId, apiGateway.region, apiGateway.customDomain',
  },
  {
    id: 'resolve-server-failure',
    source: 'nginx',
    title: 'could not be resolved (2: Server failure)',
    pattern: /could not be resolved \(2: Server failure\)/,
    cause: 'the resolver failed upstream (SERVFAIL): its own forwarders are unreachable or DNSSEC validation failed.',
    fix: 'query the same name with `dig @resolver host` from this host; use the VPC resolver.',
    change: 'resolver.addresses',
  },
  {
    id: 'tls-verify-failed',
    source: 'nginx',
    title: 'upstream SSL certificate verify error',
    pattern: /upstream SSL certificate (?:verify error|does not match)/,
    cause: 'nginx could not verify the API Gateway certificate: the trusted CA file lacks its issuer, or proxy_ssl_name is not a name on the certificate.',
    fix: 'point trustedCertificate at the system CA bundle and keep proxy_ssl_name = the target host (as rendered).',
    change: 'apiGateway.trustedCertificate',
  },
  {
    id: 'tls-handshake-no-sni',
    source: 'nginx',
    title: 'SSL handshake failed (missing SNI)',
    pattern: /SSL_do_handshake\(\) failed .*(?:handshake failure|unrecognized name|internal error|alert)/,
    cause: 'the TLS handshake with API Gateway failed; without `proxy_ssl_server_name on` nginx sends no SNI and API Gateway cannot pick a certificate.',
    fix: 'set `proxy_ssl_server_name on` and `proxy_ssl_name` to the target host (as rendered).',
    change: 'rendered `proxy_ssl_server_name on` of the mirror location',
  },
  {
    id: 'connect-timeout',
    source: 'nginx',
    title: 'upstream timed out while connecting',
    pattern: /upstream timed out \(110: Connection timed out\) while connecting to upstream/,
    cause: 'no TCP connection to API Gateway within proxy_connect_timeout: egress on 443 is blocked (security group, NACL, no NAT or proxy).',
    fix: 'open egress to the execute-api endpoint (or use the custom domain through a VPC endpoint); keep the timeout short so the origin is not stalled.',
    change: 'mirror.connectTimeout',
  },
  {
    id: 'read-timeout',
    source: 'nginx',
    title: 'upstream timed out while reading the response',
    pattern: /upstream timed out \(110: Connection timed out\) while (?:reading|sending)/,
    cause: 'API Gateway answered slower than proxy_read_timeout; the mirror may still have reached SQS (judge delivery on the SQS side), and a slow gateway stalls the next request on the same connection.',
    fix: 'check the integration latency in API Gateway metrics; keep read timeouts at a few seconds at most.',
    change: 'mirror.readTimeout, mirror.sendTimeout',
  },
  {
    id: 'connection-refused',
    source: 'nginx',
    title: 'connect() failed (111: Connection refused)',
    pattern: /connect\(\) failed \(111: Connection refused\) while connecting to upstream/,
    cause: 'nothing listens at the address the host resolved to on that port: a wrong port, or a resolver answering with the wrong address.',
    fix: 'check the port and what the resolver returns for the host.',
    change: 'apiGateway.port, resolver.addresses',
  },
  {
    id: 'body-too-large',
    source: 'nginx',
    title: 'client intended to send too large body (413)',
    pattern: /client intended to send too large body/,
    cause: 'the callback was larger than client_max_body_size: nginx answered 413 before the mirror ran, so neither the origin nor API Gateway got it.',
    fix: 'raise client_max_body_size in the callback location above the largest callback.',
    change: 'client_max_body_size of the callback location',
  },
  {
    id: 'missing-authentication-token',
    source: 'api-gateway',
    title: '403 Missing Authentication Token',
    pattern: /Missing Authentication Token/,
    cause: 'no resource matched the path: the stage (execute-api host) or base path (custom domain) is missing or wrong, e.g. `$request_uri` passed without the stage.',
    fix: 'send /{stage}{resourcePath} to the execute-api host and /{basePath}{resourcePath} to the custom domain (as rendered).',
    change: 'apiGateway.stage, apiGateway.basePath, apiGateway.resourcePath',
  },
  {
    id: 'forbidden',
    source: 'api-gateway',
    title: '403 Forbidden (wrong Host or VPC endpoint)',
    pattern: /"message"\s*:\s*"Forbidden"|ForbiddenException/,
    cause: 'API Gateway refused the request: a Host header that is not the API host, or a call from a VPC whose execute-api endpoint has private DNS (it only routes to private APIs).',
    fix: 'send Host = the target host (as rendered); from such a VPC use the custom domain.',
    change: 'apiGateway.customDomain (phase shadow-domain)',
  },
  {
    id: 'unsupported-media-type',
    source: 'api-gateway',
    title: '415 Unsupported Media Type',
    pattern: /Unsupported Media Type|status: 415\b/,
    cause: 'the Content-Type matched no mapping template and passthrough is NEVER, so the callback never reached SQS.',
    fix: 'add a request template for the Content-Type the vendor sends (charset variants included) and pass Content-Type through in nginx.',
    change: 'integration requestTemplates (mirror render apigw)',
  },
  {
    id: 'unknown-operation',
    source: 'sqs',
    title: 'UnknownOperationException',
    pattern: /UnknownOperationException/,
    cause: 'SQS did not see a SendMessage call: the integration request Content-Type is not application/x-www-form-urlencoded, or the template lacks Action=SendMessage.',
    fix: "set integration.request.header.Content-Type to 'application/x-www-form-urlencoded' and start the template with Action=SendMessage (as rendered).",
    change: 'integration requestParameters and requestTemplates (mirror render apigw)',
  },
  {
    id: 'access-denied',
    source: 'sqs',
    title: 'AccessDenied',
    pattern: /AccessDenied/,
    cause: 'the execution role may not sqs:SendMessage to this queue (or the queue policy or KMS key denies it), or an unencoded body broke the signed request.',
    fix: 'give the role sqs:SendMessage on the queue ARN (and kms:GenerateDataKey/Decrypt for a customer key); wrap the body in $util.urlEncode.',
    change: 'sqs.queueUrl, sqs.kmsKeyArn',
  },
  {
    id: 'empty-attribute',
    source: 'sqs',
    title: 'InvalidParameterValue: empty message attribute',
    pattern: /must contain a non-empty value/,
    cause: 'the template copied an absent header into a message attribute; real SQS rejects an empty attribute value, so every callback without that header fails.',
    fix: 'set the attribute only when the header is present and non-empty (as rendered).',
    change: 'integration requestTemplates (mirror render apigw)',
  },
  {
    id: 'message-too-long',
    source: 'sqs',
    title: 'InvalidParameterValue: message too long',
    pattern: /MessageTooLong|message must be shorter than|Reduce the message size/i,
    cause: 'the message body plus attributes exceeded the SQS maximum message size.',
    fix: 'refuse oversized callbacks at nginx (client_max_body_size) so the vendor sees an error, or store the body elsewhere.',
    change: 'client_max_body_size of the callback location',
  },
  {
    id: 'missing-body',
    source: 'sqs',
    title: 'MissingParameter: MessageBody',
    pattern: /MissingParameter/,
    cause: 'SQS got an empty MessageBody: the callback had no body, or the template did not read $input.body.',
    fix: 'check that the template uses MessageBody=$util.urlEncode($input.body) and that nginx mirrors the body (mirror_request_body on).',
    change: 'integration requestTemplates (mirror render apigw)',
  },
];
