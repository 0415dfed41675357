/**
 * Pure: what each phase does, what changes in the nginx files between phases,
 * the gate to enter each, and which transitions are allowed. No file system, no
 * process: the cutover commands hand in configs and rendered files.
 */
import { createHash } from 'node:crypto';
import { createTwoFilesPatch } from 'diff';
import { phases, type Phase } from '../config/phases.js';
import type { MirrorConfig } from '../config/types.js';
import { phaseSummaries, type RenderedFile } from '../render/nginxConfig.js';
import { formatRatio } from '../verify/engine/gate.js';

interface PhasePlan {
  phase: Phase;
  summary: string;
  /** How the gate into this phase is decided. */
  gate: string;
  /** The rendered include files, when the config can render this phase. */
  files?: RenderedFile[];
  renderedHash?: string;
  /** Unified diff from the previous phase's files ('' for the first phase). */
  diffFromPrevious?: string;
  /** Why this phase cannot be rendered with this config (a config key to set). */
  problems?: string[];
}

export interface CutoverPlan {
  phases: PhasePlan[];
}

export type PhaseRender = { files: RenderedFile[] } | { problems: string[] };

/** Builds the plan from each phase's render (or the config problems that prevent it). */
export function buildPlan(config: MirrorConfig, renders: Record<Phase, PhaseRender>): CutoverPlan {
  let previous: RenderedFile[] | undefined;
  return {
    phases: phases.map((phase, i) => {
      const render = renders[phase];
      const base = { phase, summary: phaseSummaries[phase], gate: gateDescription(config, phase) };
      if ('problems' in render) {
        previous = undefined;
        return { ...base, problems: render.problems };
      }
      const entry: PhasePlan = {
        ...base,
        files: render.files,
        renderedHash: renderedHash(render.files),
        diffFromPrevious: i === 0 ? '' : previous ? filesDiff(previous, render.files, phases[i - 1]!, phase) : '',
      };
      previous = render.files;
      return entry;
    }),
  };
}

export function gateDescription(config: Pick<MirrorConfig, 'verify'>, phase: Phase): string {
  const i = phases.indexOf(phase);
  if (i === 0) return 'none (the starting phase)';
  if (phase === 'shadow') return 'the config validates (nginx -t), the lint is clean, and a probe arrives in SQS';
  return `parity in the ${phases[i - 1]} phase, over the soak window, at least ${formatRatio(config.verify.gate)} with at least ${config.verify.minSample} callbacks judged`;
}

/** sha256 over each file's name and contents, in name order: one value for what was written. */
export function renderedHash(files: readonly Pick<RenderedFile, 'name' | 'contents'>[]): string {
  const hash = createHash('sha256');
  for (const file of [...files].sort((a, b) => a.name.localeCompare(b.name))) {
    hash.update(file.name).update('\0').update(file.contents).update('\0');
  }
  return `sha256:${hash.digest('hex')}`;
}

/**
 * Unified diff of two sets of include files, file by file (`a/NAME` -> `b/NAME`).
 * A file missing on one side diffs against the empty file.
 */
export function filesDiff(
  before: readonly Pick<RenderedFile, 'name' | 'contents'>[],
  after: readonly Pick<RenderedFile, 'name' | 'contents'>[],
  beforeLabel: string,
  afterLabel: string,
): string {
  const names = [...new Set([...before, ...after].map((f) => f.name))].sort();
  const parts: string[] = [];
  for (const name of names) {
    const a = before.find((f) => f.name === name)?.contents ?? '';
    const b = after.find((f) => f.name === name)?.contents ?? '';
    if (a === b) continue;
    parts.push(createTwoFilesPatch(`a/${name}`, `b/${name}`, a, b, beforeLabel, afterLabel, { context: 3 }).replace(/^=+\n/, ''));
  }
  return parts.join('');
}

export type TransitionDecision =
  | { ok: true; to: Phase; skipped: Phase[] }
  | { ok: false; reason: string };

/**
 * Where an advance goes: the next phase, or `--to` a later one (skipping the
 * phases between needs --force --reason; the caller checks that).
 */
export function decideAdvance(current: Phase, to: Phase | undefined): TransitionDecision {
  const i = phases.indexOf(current);
  if (to === undefined) {
    if (i === phases.length - 1) return { ok: false, reason: `already in the last phase (${current}); nothing to advance to` };
    return { ok: true, to: phases[i + 1]!, skipped: [] };
  }
  const j = phases.indexOf(to);
  if (j <= i) {
    return { ok: false, reason: `--to ${to} is not after the current phase ${current}: expected one of ${phases.slice(i + 1).join(', ') || '(none)'}; use rollback to go back` };
  }
  return { ok: true, to, skipped: phases.slice(i + 1, j) };
}

/** Where a rollback goes: the phase before the current one, or `--to` any earlier one. */
export function decideRollback(current: Phase, to: Phase | undefined): TransitionDecision {
  const i = phases.indexOf(current);
  if (to === undefined) {
    if (i === 0) return { ok: false, reason: `already in the first phase (${current}); nothing to roll back to` };
    return { ok: true, to: phases[i - 1]!, skipped: [] };
  }
  const j = phases.indexOf(to);
  if (j >= i) {
    return { ok: false, reason: `--to ${to} is not before the current phase ${current}: expected one of ${phases.slice(0, i).join(', ') || '(none)'}` };
  }
  return { ok: true, to, skipped: phases.slice(j + 1, i) };
}
