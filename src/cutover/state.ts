/**
 * The cutover state file: the current phase and every transition, with the hash
 * of what was rendered, the gate's verdict and figures, and who forced what and
 * why. Reading and validating are here; every write is whole-or-nothing
 * (writeFileAtomic: temp file, fsync, rename), so a reader never sees half a file.
 */
import { readFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { UsageError } from '../errors.js';
import { isPhase, phases, type Phase } from '../config/phases.js';
import { writeFileAtomic } from '../fs/atomicWrite.js';
import type { GateVerdict } from '../verify/engine/gate.js';

export type TransitionKind = 'advance' | 'rollback' | 'forced';

interface GateRecord {
  verdict: GateVerdict;
  figures: Record<string, number | string>;
  summary: string;
}

export interface Transition {
  /** ISO time the transition completed. */
  at: string;
  from: Phase;
  to: Phase;
  kind: TransitionKind;
  /** sha256 of the rendered include files written (see renderedHash). */
  renderedHash: string;
  /** The gate into `to`; absent on a rollback (gate-free). */
  gate?: GateRecord;
  /** OS user who passed --force. */
  forcedBy?: string;
  reason?: string;
  nginxDir: string;
  /** Where the files this transition replaced were kept. */
  backup?: string;
  reloaded: boolean;
}

export interface CutoverState {
  version: 1;
  phase: Phase;
  /** When the current phase was entered; absent before the first transition. */
  since?: string;
  history: Transition[];
}

export interface LoadedState {
  state: CutoverState;
  /** False when no state file exists yet: the phase came from the config. */
  exists: boolean;
}

/** No state file yet: the cutover starts at the phase the config renders (`phase:`). */
export function initialState(phase: Phase): CutoverState {
  return { version: 1, phase, history: [] };
}

/** Pure: the state after a transition. */
export function withTransition(state: CutoverState, transition: Transition): CutoverState {
  return { version: 1, phase: transition.to, since: transition.at, history: [...state.history, transition] };
}

export async function readState(path: string, fallbackPhase: Phase): Promise<LoadedState> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { state: initialState(fallbackPhase), exists: false };
    throw new UsageError(`cannot read the cutover state file ${path}: ${(error as Error).message}`);
  }
  return { state: parseState(text, path), exists: true };
}

/** Checks the shape a state file must have; each problem names the field and what was expected. */
export function parseState(text: string, source: string): CutoverState {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${source}: not a cutover state file: expected JSON (${(error as Error).message})`, [
      'the file is written by `mirror cutover advance|rollback`; restore it from its history or remove it to start over from the config\'s phase',
    ]);
  }
  const problems: string[] = [];
  const record = (raw ?? {}) as Record<string, unknown>;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) problems.push('(root): expected a JSON object');
  if (record.version !== 1) problems.push(`version: expected 1, got ${JSON.stringify(record.version)}`);
  if (typeof record.phase !== 'string' || !isPhase(record.phase)) {
    problems.push(`phase: expected one of ${phases.join(', ')}, got ${JSON.stringify(record.phase)}`);
  }
  if (record.since !== undefined && (typeof record.since !== 'string' || Number.isNaN(Date.parse(record.since)))) {
    problems.push(`since: expected an ISO time, got ${JSON.stringify(record.since)}`);
  }
  if (!Array.isArray(record.history)) problems.push('history: expected an array of transitions');
  else {
    record.history.forEach((entry: unknown, i) => {
      const t = (entry ?? {}) as Record<string, unknown>;
      for (const key of ['from', 'to'] as const) {
        if (typeof t[key] !== 'string' || !isPhase(t[key] as string)) problems.push(`history.${i}.${key}: expected a phase`);
      }
      if (!['advance', 'rollback', 'forced'].includes(t.kind as string)) problems.push(`history.${i}.kind: expected advance, rollback or forced`);
      if (typeof t.at !== 'string' || Number.isNaN(Date.parse(t.at))) problems.push(`history.${i}.at: expected an ISO time`);
    });
  }
  if (problems.length > 0) throw new UsageError(`${source}: ${problems.length} problem${problems.length === 1 ? '' : 's'} in the cutover state file`, problems);
  return raw as CutoverState;
}

/** Owner-only: the history names who forced a gate and why. */
export async function writeState(path: string, state: CutoverState): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFileAtomic(path, `${JSON.stringify(state, null, 2)}\n`, 0o600);
}
