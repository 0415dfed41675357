/**
 * The gate into each phase, behind one interface so the tests and the demo can
 * supply their own. The defaults: entering `shadow` needs the config to validate
 * (the real nginx -t), a clean lint and a probe that arrived in SQS; every later
 * phase needs `mirror verify` over the soak window to pass the config's gate with
 * its minimum sample.
 */
import type { Phase } from '../config/phases.js';
import type { MirrorConfig } from '../config/types.js';
import type { GateResult } from './gateResult.js';
import { formatRatio } from '../verify/engine/gate.js';
import type { ProbeOptions, ProbeResult } from '../probe/sendProbes.js';
import { findNginx } from '../nginx/nginxBinary.js';

export type { GateResult } from './gateResult.js';

export interface GateContext {
  from: Phase;
  to: Phase;
  /** The config, loaded once by the command and checked for `to`. */
  config: MirrorConfig;
  /** Start of the soak window (ISO): --soak back from now, or when `from` was entered. */
  since?: string;
  nginxPath?: string;
}

export type Gate = (ctx: GateContext) => Promise<GateResult>;

export interface DefaultGateOptions {
  /** `mirror probe`, wired by the caller; without it the shadow gate is inconclusive. */
  probe?: (ctx: GateContext) => Promise<GateResult>;
  /** Parity logs to verify (default: the config's parityLog.path). */
  parityLog?: string[];
  /** Verify against these consume-mode archives instead of reading SQS (the demo: its watch consumes). */
  sqsArchive?: string[];
  /** With mirror.transport ship, the gate into primary also probes through a throwaway nginx (nginxReach.ts); false skips it. */
  nginxReach?: { count?: number; timeout?: string } | false;
}

/** The default gate: shadow by validate + lint + probe, later phases by verify. */
export function defaultGate(options: DefaultGateOptions = {}): Gate {
  return (ctx) => (ctx.to === 'shadow' ? shadowGate(ctx, options) : ctx.to === 'primary' && ctx.config.mirror.transport === 'ship' ? shipPrimaryGate(ctx, options) : parityGate(ctx, options));
}

/** Into primary with ship: parity as always, then nginx itself must reach the custom domain. */
async function shipPrimaryGate(ctx: GateContext, options: DefaultGateOptions): Promise<GateResult> {
  const parity = await parityGate(ctx, options);
  if (parity.verdict !== 'pass' || options.nginxReach === false) return parity;
  const { nginxReachGate } = await import('./nginxReach.js');
  const reach = await nginxReachGate(ctx.config, { ...options.nginxReach, nginxPath: await findNginx(ctx.nginxPath) });
  const figures = { ...parity.figures, ...Object.fromEntries(Object.entries(reach.figures).map(([k, v]) => [`nginxReach.${k}`, v])) };
  return { verdict: reach.verdict, figures, summary: `${parity.summary}; ${reach.summary}` };
}

async function shadowGate(ctx: GateContext, options: DefaultGateOptions): Promise<GateResult> {
  const { checkRender } = await import('../validate/checkRender.js');
  const validation = await checkRender(ctx.config, 'shadow', await findNginx(ctx.nginxPath));
  const figures: Record<string, number | string> = {
    nginxTest: validation.nginxTest.ok ? 'passed' : 'failed',
    lintErrors: validation.lint.errors,
    lintWarnings: validation.lint.warnings,
  };
  if (!validation.nginxTest.ok || validation.lint.errors > 0) {
    const first = validation.nginxTest.messages.find((m) => m.level === 'emerg') ?? validation.lint.findings[0];
    const detail = first ? ('ruleId' in first ? `${first.ruleId}: ${first.message}` : first.text) : 'see mirror validate --phase shadow';
    return { verdict: 'fail', figures: { ...figures, probe: 'not run' }, summary: `the shadow config does not validate (${detail})` };
  }
  if (!options.probe) {
    return {
      verdict: 'inconclusive',
      figures: { ...figures, probe: 'not run' },
      summary: 'the config validates and lints clean, but no probe was run: a probe must arrive in SQS before the shadow phase (mirror probe)',
    };
  }
  const probe = await options.probe(ctx);
  const merged = { ...figures, ...Object.fromEntries(Object.entries(probe.figures).map(([k, v]) => [`probe.${k}`, v])) };
  return { verdict: probe.verdict, figures: merged, summary: `the config validates and lints clean; probe: ${probe.summary}` };
}

async function parityGate(ctx: GateContext, options: DefaultGateOptions): Promise<GateResult> {
  const { compareParity } = await import('../verify/parity.js');
  const report = await compareParity(ctx.config, {
    parityLog: options.parityLog ?? [ctx.config.parityLog.path],
    ...(options.sqsArchive ? { sqsArchive: options.sqsArchive } : {}),
    ...(ctx.since ? { since: ctx.since } : {}),
  });
  const c = report.counts;
  const figures: Record<string, number | string> = {
    parity: report.parity === null ? 'n/a' : report.parity,
    gate: report.gate.threshold,
    judged: report.gate.judged,
    minSample: report.gate.minSample,
    matched: c.matched,
    missing: c.missing,
    pending: c.pending,
    bodyMismatches: c.bodyMismatches,
    unexpected: c.unexpected,
    duplicates: c.duplicates,
    ...(report.lagMs.p95 !== undefined && report.lagMs.p95 !== null ? { lagP95Ms: report.lagMs.p95 } : {}),
    // Ack mode (verify.liveConsumer): judged from API Gateway's answers; why each callback is missing.
    ...(report.ack
      ? { mode: 'ack', unknown: report.ack.unknown, missingByCause: Object.entries(report.ack.byCause).sort((a, b) => b[1] - a[1]).map(([cause, n]) => `${cause} ${n}`).join(', ') || 'none' }
      : {}),
  };
  const parity = report.parity === null ? 'n/a' : formatRatio(report.parity);
  const window = ctx.since ? ` since ${ctx.since}` : ' over the whole parity log';
  const summary =
    report.verdict === 'pass'
      ? `parity ${parity} in ${ctx.from}${window} meets the gate ${formatRatio(report.gate.threshold)} (${report.gate.judged} judged)`
      : `${report.gate.reasons.join('; ')} (parity ${parity} in ${ctx.from}${window})`;
  return { verdict: report.verdict, figures, summary };
}

/** Pure: a `mirror probe` result as the shadow gate's probe verdict. */
export function probeResultToGate(result: Pick<ProbeResult, 'verdict' | 'sent' | 'arrived' | 'url' | 'timeoutMs' | 'probes'>): GateResult {
  const times = result.probes.map((p) => p.roundTripMs).filter((t): t is number => t !== null);
  return {
    verdict: result.verdict === 'arrived' && result.arrived === result.sent && result.sent > 0 ? 'pass' : 'fail',
    figures: { sent: result.sent, arrived: result.arrived, ...(times.length > 0 ? { maxRoundTripMs: Math.max(...times) } : {}) },
    summary: `${result.arrived} of ${result.sent} probes sent to ${result.url} arrived in SQS${result.arrived < result.sent ? ` within ${result.timeoutMs} ms` : ''}`,
  };
}

/** The real `mirror probe` as the shadow gate's probe: straight to the execute-api URL, timed into SQS. */
export function mirrorProbe(options: Pick<ProbeOptions, 'count' | 'timeout' | 'connectTo' | 'ca'> = {}): NonNullable<DefaultGateOptions['probe']> {
  return async (ctx) => {
    const { sendProbes } = await import('../probe/sendProbes.js');
    return probeResultToGate(await sendProbes(ctx.config, { ...options, phase: 'shadow' }));
  };
}
