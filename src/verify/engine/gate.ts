/** The parity gate: pass, fail, or inconclusive when too few callbacks were judged. Never a pass by default. */
import { ExitCode } from '../../errors.js';
import type { ParityJudgement } from './parityLedger.js';

export interface GateOptions {
  /** Minimum parity, 0..1. */
  threshold: number;
  /** Minimum callbacks judged (matched + missing) for a verdict. */
  minSample: number;
}

export type GateVerdict = 'pass' | 'fail' | 'inconclusive';

export interface GateResult extends GateOptions {
  verdict: GateVerdict;
  judged: number;
  reasons: string[];
}

export function applyGate(judgement: ParityJudgement, options: GateOptions): GateResult {
  const { counts, parity } = judgement;
  const judged = counts.matched + counts.missing;
  const reasons: string[] = [];
  if (counts.bodyMismatches > 0) {
    reasons.push(`${counts.bodyMismatches} message bodies differ from the callbacks nginx received`);
  }
  if (parity !== null && parity < options.threshold) {
    reasons.push(`parity ${formatRatio(parity)} is below the gate ${formatRatio(options.threshold)} (${counts.missing} missing)`);
  }
  // A definite failure is reported as such even on a small sample; a pass needs the sample.
  if (reasons.length > 0) return { ...options, verdict: 'fail', judged, reasons };
  if (judged < options.minSample) {
    return { ...options, verdict: 'inconclusive', judged, reasons: [`only ${judged} callbacks judged; the gate needs at least ${options.minSample}`] };
  }
  return { ...options, verdict: 'pass', judged, reasons: [] };
}

export function formatRatio(value: number): string {
  // 0.9990 -> 0.999, 0 -> 0.0, 1 -> 1.0: never a bare trailing point.
  return value.toFixed(4).replace(/0+$/, '').replace(/\.$/, '.0');
}

/** The exit code of a verdict, the same for verify, watch and every cutover gate: 0 pass, 1 fail, 4 inconclusive. */
export function verdictExitCode(verdict: GateVerdict): ExitCode {
  return verdict === 'pass' ? ExitCode.ok : verdict === 'fail' ? ExitCode.checkFailed : ExitCode.inconclusive;
}
