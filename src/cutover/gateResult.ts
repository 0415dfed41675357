/** What a gate decides: the shape every gate returns (the defaults in gates.ts, nginx's own reach in nginxReach.ts). */
import type { GateVerdict } from '../verify/engine/gate.js';

export interface GateResult {
  verdict: GateVerdict;
  figures: Record<string, number | string>;
  summary: string;
}
