/**
 * `mirror demo`: the core loop's nginx half, end to end on this machine, on the
 * embedded defaults. It renders the shadow phase, checks it with the real
 * `nginx -t` and the lint, runs the real nginx with it in front of an origin, with
 * dnsmasq resolving the execute-api host to an HTTPS stand-in (test-CA
 * certificate), sends awkward Bizppurio callbacks, and proves with the parity
 * comparator that every one reached the stand-in byte for byte.
 *
 * Nothing here prints a callback body: they hold phone numbers.
 */
import { ExitCode, UsageError } from '../errors.js';
import { startShadowStack, type ShadowStack } from '../sandbox/shadowStack.js';
import { sendCallbacks, trickyCallback } from '../sandbox/callbacks.js';
import { bizppurio } from '../vendors/bizppurio.js';
import { runNginxTest } from '../nginx/nginxTest.js';
import { findNginx } from '../nginx/nginxBinary.js';
import { runLint } from './lint.js';
import { ParityLedger, type ParityCounts } from '../verify/parityLedger.js';
import { applyGate, formatRatio, type GateResult } from '../verify/gate.js';
import { requestIdAttribute, type CallbackRecord, type QueueMessage } from '../verify/records.js';

export interface DemoOptions {
  count: number;
  nginx?: string;
  keep?: boolean;
  progress?: (line: string) => void;
  /** How long to wait for the mirrored copies (default 30 s). */
  waitMs?: number;
}

export interface DemoResult {
  exitCode: ExitCode;
  phase: string;
  nginx: { path: string; pid: number; listen: string; test: 'passed' | 'failed' };
  lint: { errors: number; warnings: number; info: number };
  callbackUrl: string;
  gateway: { host: string; path: string; resolver: string };
  sent: number;
  originAnswered200: number;
  originBodiesExact: number;
  parityLogLines: number;
  mirrorReceived: number;
  counts: ParityCounts;
  parity: number | null;
  gate: GateResult;
  /** Request ids of callbacks that never reached the stand-in (ids only, no bodies). */
  missing: string[];
}

export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  if (!Number.isInteger(options.count) || options.count < 1 || options.count > 100_000) {
    throw new UsageError(`--count must be a whole number from 1 to 100000, got ${String(options.count)}`);
  }
  const say = options.progress ?? (() => undefined);
  const nginxPath = await findNginx(options.nginx);
  say(`demo: starting dnsmasq, an origin, an HTTPS API Gateway stand-in and ${nginxPath} on 127.0.0.1`);
  const stack = await startShadowStack({ nginxPath, serverLevelHeaders: true });
  try {
    return await demoOn(stack, nginxPath, options, say);
  } finally {
    if (options.keep) {
      say(`demo: left running; POST to ${stack.callbackUrl}; parity log ${stack.parityLogPath}. Ctrl-C stops everything.`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', () => resolve());
        process.once('SIGTERM', () => resolve());
      });
    }
    await stack.stop();
  }
}

async function demoOn(stack: ShadowStack, nginxPath: string, options: DemoOptions, say: (line: string) => void): Promise<DemoResult> {
  const nginxTest = await runNginxTest(nginxPath, stack.harness);
  const lintRun = await runLint({ files: [stack.harness.confPath], format: 'json' });
  const lint = { errors: lintRun.report.counts.error, warnings: lintRun.report.counts.warning, info: lintRun.report.counts.info };
  say(`demo: rendered the ${stack.phase} phase; nginx -t ${nginxTest.ok ? 'passed' : 'FAILED'}; lint ${lint.errors} errors, ${lint.warnings} warnings`);

  const bodies = Array.from({ length: options.count }, (_, i) => trickyCallback(bizppurio, i));
  say(`demo: POSTing ${bodies.length} Bizppurio callbacks (Korean, emoji, & = + %, quotes, backslashes, newlines) to ${stack.callbackUrl}`);
  const sent = await sendCallbacks(stack.callbackUrl, bodies, { connections: 4 });
  const waitMs = options.waitMs ?? 30_000;
  await stack.waitForParityLines(bodies.length, waitMs).catch(() => undefined);
  const lines = await stack.readParityLog();
  const records = lines.flatMap((l) => (l.ok ? [l.record] : []));
  const mirrored = records.filter((r) => r.sentToGateway).length;
  await stack.target!.waitForCount(mirrored, waitMs).catch(() => undefined);

  const ledger = new ParityLedger({ match: { kind: 'request-id' }, graceMs: 0 });
  for (const record of records) ledger.addCallback(record);
  for (const message of stack.target!.requests.map(asQueueMessage)) ledger.addMessage(message);
  ledger.advance(Date.now() + 1);
  const judgement = ledger.judgement();
  const gate = applyGate(judgement, { threshold: 1, minSample: Math.min(bodies.length, 20) });

  const sentBytes = new Set(bodies.map((b) => Buffer.from(b).toString('base64')));
  const originBodiesExact = stack.origin.requests.filter((r) => sentBytes.has(r.body.toString('base64'))).length;
  const originAnswered200 = sent.filter((r) => r.status === 200).length;
  const allGood =
    nginxTest.ok && lint.errors === 0 && originAnswered200 === bodies.length && originBodiesExact === bodies.length && lines.length === bodies.length && gate.verdict === 'pass';
  return {
    exitCode: allGood ? ExitCode.ok : gate.verdict === 'inconclusive' && nginxTest.ok ? ExitCode.inconclusive : ExitCode.checkFailed,
    phase: stack.phase,
    nginx: { path: nginxPath, pid: stack.nginx.pid, listen: stack.harness.listen, test: nginxTest.ok ? 'passed' : 'failed' },
    lint,
    callbackUrl: stack.callbackUrl,
    gateway: { host: stack.gateway.host, path: stack.gateway.path, resolver: stack.dns?.address ?? '' },
    sent: bodies.length,
    originAnswered200,
    originBodiesExact,
    parityLogLines: lines.length,
    mirrorReceived: stack.target!.count(),
    counts: judgement.counts,
    parity: judgement.parity,
    gate,
    missing: judgement.missing.map((m) => m.requestId),
  };
}

/** The stand-in's view of a mirrored callback, shaped as the SQS message it would become. */
function asQueueMessage(request: NonNullable<ShadowStack['target']>['requests'][number], index: number): QueueMessage {
  const id = request.headers['x-mirror-request-id'];
  return {
    messageId: `standin-${index}`,
    body: request.body.toString('utf8'),
    attributes: typeof id === 'string' ? { [requestIdAttribute]: id } : {},
    sentTimestampMs: request.receivedAt,
  };
}

export function formatDemoText(result: DemoResult): string {
  const c = result.counts;
  const verdict = result.exitCode === ExitCode.ok ? 'PASS' : result.exitCode === ExitCode.inconclusive ? 'INCONCLUSIVE' : 'FAIL';
  const lines = [
    `${verdict}: mirror demo, ${result.phase} phase, ${result.sent} callbacks`,
    `  nginx        ${result.nginx.path} (pid ${result.nginx.pid}) on ${result.nginx.listen}; nginx -t ${result.nginx.test}; lint ${result.lint.errors} errors, ${result.lint.warnings} warnings, ${result.lint.info} info`,
    `  mirror to    https://${result.gateway.host}${result.gateway.path} (resolved by dnsmasq at ${result.gateway.resolver}, TLS verified against a test CA)`,
    `  origin       ${result.originAnswered200}/${result.sent} answered 200; ${result.originBodiesExact}/${result.sent} bodies byte-exact`,
    `  parity log   ${result.parityLogLines} lines`,
    `  stand-in     ${result.mirrorReceived} mirrored copies received`,
    `  parity       ${result.parity === null ? 'n/a' : formatRatio(result.parity)} (matched ${c.matched}, missing ${c.missing}, body mismatches ${c.bodyMismatches}, unexpected ${c.unexpected}, duplicates ${c.duplicates})`,
    `  gate         ${result.gate.verdict}${result.gate.reasons.length ? `: ${result.gate.reasons.join('; ')}` : ''}`,
  ];
  if (result.missing.length > 0) lines.push(`  missing request ids: ${result.missing.slice(0, 10).join(', ')}${result.missing.length > 10 ? ', …' : ''}`);
  return lines.join('\n');
}
