/**
 * `mirror probe`: marked synthetic callbacks, timed into SQS. Each probe is the
 * vendor's own shape with a recognisable REFKEY (`mirror-probe-{run}-{n}`), a
 * phone number that cannot be anyone's, and the `X-Mirror-Probe` header, which the
 * rendered API Gateway template turns into the `mirror-probe` message attribute.
 * Probes go straight to the phase's API Gateway URL, or through nginx with
 * `--through-nginx` (the origin then gets them too). The command peeks at the
 * queue: messages that are not its probes are handed straight back (visibility 0),
 * probes are left for the consumers, who drop them by the attribute.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { Agent, request } from 'undici';
import { ChangeMessageVisibilityBatchCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { ExitCode, UsageError } from '../errors.js';
import type { MirrorConfig } from '../config/types.js';
import type { Phase } from '../config/phases.js';
import { durationPattern, durationToMs } from '../config/nginxValues.js';
import { gatewayTarget } from '../render/nginxConfig.js';
import { vendorPreset } from '../vendors/index.js';
import { probeAttribute, probeHeader } from '../wire/contract.js';
import { sqsClientFor } from '../verify/sources/sqsSource.js';
import { parseHostPort, parsePhaseFlag } from '../flags/options.js';

export interface ProbeOptions {
  config?: string;
  /** An already loaded config (the demo and cutover call probe in-process). */
  loaded?: MirrorConfig;
  phase?: string;
  count?: number;
  throughNginx?: boolean;
  /** Where nginx takes callbacks (default http://127.0.0.1{callback.path}). */
  nginxUrl?: string;
  /** How long to wait for every probe in SQS: a duration (30s, 2m). */
  timeout?: string;
  /** Connect to this host:port instead of resolving the gateway host (sandbox, private links). */
  connectTo?: string;
  /** CA bundle for the gateway's certificate (default: apiGateway.trustedCertificate). */
  ca?: string;
  /** Seconds a seen probe stays invisible to the consumers (default 30; they drop probes anyway). */
  visibilitySeconds?: number;
  /** An SQS client to use (tests); otherwise the default credential chain. */
  sqsClient?: SQSClient;
}

interface ProbeOutcome {
  seq: number;
  refKey: string;
  /** HTTP status of the POST (null when it never got an answer). */
  status: number | null;
  error?: string;
  /** Send to first seen in SQS, as this command measured it. */
  roundTripMs: number | null;
  /** SQS SentTimestamp minus the send time (clock of this machine vs SQS). */
  sentTimestampLagMs: number | null;
}

export interface ProbeResult {
  exitCode: ExitCode;
  verdict: 'arrived' | 'missing';
  run: string;
  phase: Phase;
  url: string;
  throughNginx: boolean;
  timeoutMs: number;
  sent: number;
  arrived: number;
  probes: ProbeOutcome[];
}

/** The count and the timeout, checked: a bad value is refused before anything is loaded or sent. */
export function probeLimits(options: Pick<ProbeOptions, 'count' | 'timeout'>): { count: number; timeoutMs: number } {
  const count = options.count ?? 3;
  if (!Number.isInteger(count) || count < 1 || count > 1000) throw new UsageError(`--count must be a whole number from 1 to 1000, got ${String(options.count)}`);
  const timeoutText = options.timeout ?? '30s';
  if (!durationPattern.test(timeoutText)) throw new UsageError(`--timeout ${timeoutText}: expected a duration such as 10s, 30s or 2m`);
  return { count, timeoutMs: durationToMs(timeoutText) };
}

/** Sends the probes for the config it is given, and waits for each in SQS. */
export async function sendProbes(config: MirrorConfig, options: Omit<ProbeOptions, 'config' | 'loaded'>): Promise<ProbeResult> {
  const { count, timeoutMs } = probeLimits(options);
  const phase = parsePhaseFlag(options.phase) ?? config.phase;
  const vendor = vendorPreset(config.vendor);

  let url: string;
  let dispatcher: Agent | undefined;
  /** With --connect-to: the gateway host, sent as Host (and as SNI by the agent). */
  let hostHeader: string | undefined;
  if (options.throughNginx) {
    url = options.nginxUrl ?? `http://127.0.0.1${config.callback.path}`;
  } else {
    const target = gatewayTarget(config, phase === 'off' ? 'shadow' : phase)!;
    url = `https://${target.host}${target.port === 443 ? '' : `:${target.port}`}${target.uri}`;
    // Flags win; then the config's sandbox keys (what `mirror sandbox up` writes); then DNS and the API's CA bundle.
    const caPath = options.ca ?? config.sandbox?.caCertificate ?? config.apiGateway.trustedCertificate;
    const ca = await readFile(caPath, 'utf8').catch((error: Error) => {
      throw new UsageError(`cannot read the CA bundle ${caPath}: ${error.message}`);
    });
    const connectToText = options.connectTo ?? config.sandbox?.gatewayAddress;
    const connectTo = connectToText ? parseHostPort(connectToText, options.connectTo ? '--connect-to' : 'sandbox.gatewayAddress', { example: '127.0.0.1:8443' }) : undefined;
    dispatcher = new Agent({ connect: { ca, servername: target.host } });
    if (connectTo) {
      // undici connects to the URL's origin; point it at the address, keep Host and SNI.
      url = `https://${connectTo.host}:${connectTo.port}${target.uri}`;
      hostHeader = target.host;
    }
  }

  const run = randomBytes(6).toString('hex');
  const probes = Array.from({ length: count }, (_, seq) => {
    const body = { ...vendor.sampleCallback(900_000_000 + seq) } as Record<string, string>;
    const refKey = `mirror-probe-${run}-${seq}`;
    body.REFKEY = refKey;
    // Not anyone's phone number: probes must never reach a person.
    if ('PHONE' in body) body.PHONE = '00000000000';
    return { seq, refKey, marker: `${run}-${seq}`, body: JSON.stringify(body) };
  });

  const sqs = options.sqsClient ?? sqsClientFor(config);
  const outcomes = new Map<string, ProbeOutcome & { sentAt: number }>();
  try {
    for (const probe of probes) {
      const sentAt = Date.now();
      const outcome: ProbeOutcome & { sentAt: number } = { seq: probe.seq, refKey: probe.refKey, status: null, roundTripMs: null, sentTimestampLagMs: null, sentAt };
      outcomes.set(probe.marker, outcome);
      try {
        const res = await request(url, {
          method: 'POST',
          // The header name in the case the API Gateway template looks it up: a lookup in
          // another case is not relied on (docs/apigw.md, header names).
          headers: { 'content-type': vendor.contentType, [probeHeader]: probe.marker, ...(hostHeader ? { host: hostHeader } : {}) },
          body: probe.body,
          ...(dispatcher ? { dispatcher } : {}),
          headersTimeout: timeoutMs,
          bodyTimeout: timeoutMs,
        });
        await res.body.text();
        outcome.status = res.statusCode;
      } catch (error) {
        outcome.error = (error as Error).message;
      }
    }

    const deadline = Date.now() + timeoutMs;
    const waiting = () => [...outcomes.values()].filter((o) => o.roundTripMs === null && o.status !== null && o.status < 300).length;
    while (waiting() > 0 && Date.now() < deadline) {
      const wait = Math.max(0, Math.min(5, Math.floor((deadline - Date.now()) / 1000)));
      const got = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: config.sqs.queueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: wait,
          // Long enough not to see the same probe twice; others go straight back below.
          VisibilityTimeout: options.visibilitySeconds ?? 30,
          MessageAttributeNames: [probeAttribute],
          MessageSystemAttributeNames: ['SentTimestamp'],
        }),
      );
      const now = Date.now();
      const release: { Id: string; ReceiptHandle: string }[] = [];
      for (const [i, message] of (got.Messages ?? []).entries()) {
        const marker = message.MessageAttributes?.[probeAttribute]?.StringValue;
        const outcome = marker !== undefined ? outcomes.get(marker) : undefined;
        if (!outcome) {
          if (message.ReceiptHandle) release.push({ Id: String(i), ReceiptHandle: message.ReceiptHandle });
          continue;
        }
        if (outcome.roundTripMs === null) {
          outcome.roundTripMs = now - outcome.sentAt;
          const sent = Number(message.Attributes?.SentTimestamp);
          if (Number.isFinite(sent) && sent > 0) outcome.sentTimestampLagMs = sent - outcome.sentAt;
        }
      }
      if (release.length > 0) {
        // Not ours: back to the real consumers at once.
        await sqs.send(new ChangeMessageVisibilityBatchCommand({ QueueUrl: config.sqs.queueUrl, Entries: release.map((r) => ({ ...r, VisibilityTimeout: 0 })) }));
      }
    }
  } finally {
    await dispatcher?.close();
    if (!options.sqsClient) sqs.destroy();
  }
  const list = [...outcomes.values()].map(({ sentAt: _sentAt, ...o }) => o);
  const arrived = list.filter((o) => o.roundTripMs !== null).length;
  return {
    exitCode: arrived === count ? ExitCode.ok : ExitCode.checkFailed,
    verdict: arrived === count ? 'arrived' : 'missing',
    run,
    phase,
    url: hostHeaderUrl(url, options.connectTo ?? (options.throughNginx ? undefined : config.sandbox?.gatewayAddress), config, phase),
    throughNginx: Boolean(options.throughNginx),
    timeoutMs,
    sent: count,
    arrived,
    probes: list,
  };
}

/** The URL as the user knows it (the gateway host, not the --connect-to address). */
function hostHeaderUrl(url: string, connectTo: string | undefined, config: MirrorConfig, phase: Phase): string {
  if (!connectTo) return url;
  const target = gatewayTarget(config, phase === 'off' ? 'shadow' : phase)!;
  return `https://${target.host}${target.port === 443 ? '' : `:${target.port}`}${target.uri} (via ${connectTo})`;
}
