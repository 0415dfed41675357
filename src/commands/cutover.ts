/**
 * `mirror cutover plan|status|advance|rollback`: walk the phases of PRODUCT.md,
 * each advance gated, each step reversible with one command. The commands parse
 * flags and hand adapters (gates, the live nginx) to src/cutover; nothing here
 * prints.
 */
import { ExitCode, UsageError, ConfigError } from '../errors.js';
import { loadConfig, configForPhase, defaultConfigPath } from '../config/load.js';
import { phases, type Phase } from '../config/phases.js';
import { renderNginx } from '../render/nginxConfig.js';
import { loadTemplates } from '../render/templates.js';
import { findNginx } from '../nginx/nginxBinary.js';
import { durationPattern, durationToMs } from '../config/nginxValues.js';
import { parsePhaseFlag } from '../flags/options.js';
import { buildPlan, decideAdvance, gateDescription, type CutoverPlan, type PhaseRender } from '../cutover/plan.js';
import { readState, type Transition } from '../cutover/state.js';
import { defaultGate, type Gate, type GateContext, type GateResult } from '../cutover/gates.js';
import { runTransition, type TransitionResult } from '../cutover/transition.js';
import { verdictExitCode } from '../verify/engine/gate.js';
import type { LiveNginx } from '../nginx/liveNginx.js';


interface CommonOptions {
  config?: string;
  /** The state file (default .mirror/state.json). */
  state?: string;
}

// ---------------------------------------------------------------- plan

export interface CutoverPlanOptions extends CommonOptions {}

export interface CutoverPlanResult extends CutoverPlan {
  exitCode: ExitCode;
  /** The current phase, from the state file or the config. */
  current: Phase;
  stateExists: boolean;
}

export async function runCutoverPlan(options: CutoverPlanOptions): Promise<CutoverPlanResult> {
  const loaded = await loadConfig(options.config ?? defaultConfigPath);
  const { config } = loaded;
  const templates = await loadTemplates('nginx');
  const renders = {} as Record<Phase, PhaseRender>;
  for (const phase of phases) {
    try {
      renders[phase] = { files: renderNginx(configForPhase(loaded, phase), phase, templates).files };
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      renders[phase] = { problems: error.details.slice() };
    }
  }
  const { state, exists } = await readState(options.state ?? config.cutover.stateFile, config.phase);
  return { exitCode: ExitCode.ok, ...buildPlan(config, renders), current: state.phase, stateExists: exists };
}

export function formatCutoverPlanText(result: CutoverPlanResult): string {
  const lines: string[] = [`Cutover plan (current phase: ${result.current}${result.stateExists ? '' : ', from the config: no state file yet'})`, ''];
  result.phases.forEach((p, i) => {
    lines.push(`${i + 1}. ${p.phase}${p.phase === result.current ? '   <- current' : ''}`, `   traffic: ${p.summary}`, `   gate to enter: ${p.gate}`);
    if (p.problems) lines.push(...p.problems.map((problem) => `   cannot render with this config: ${problem}`));
    else if (i > 0) lines.push(p.diffFromPrevious ? `   nginx changes from ${result.phases[i - 1]!.phase}:` : '   nginx files: no change', ...indent(p.diffFromPrevious ?? '', '   '));
    lines.push('');
  });
  return lines.join('\n').trimEnd();
}

// ---------------------------------------------------------------- status

export interface CutoverStatusOptions extends CommonOptions {
  /** Skip the live gate. */
  gate?: boolean;
  soak?: string;
  parityLog?: string[];
  nginx?: string;
  /** Supplied by the caller: the shadow gate's probe (mirror probe). */
  probe?: (ctx: GateContext) => Promise<GateResult>;
  /** Replaces the default gate (tests, the demo). */
  gateImpl?: Gate;
  now?: () => Date;
}

export interface CutoverStatusResult {
  exitCode: ExitCode;
  phase: Phase;
  since?: string;
  stateExists: boolean;
  statePath: string;
  last?: Transition;
  transitions: number;
  next?: { phase: Phase; gateDescription: string; gate?: GateResult };
}

/** Exit code: the next gate's verdict (0 pass, 1 fail, 4 inconclusive); 0 in the last phase or with --no-gate. */
export async function runCutoverStatus(options: CutoverStatusOptions): Promise<CutoverStatusResult> {
  const loaded = await loadConfig(options.config ?? defaultConfigPath);
  const { config } = loaded;
  const statePath = options.state ?? config.cutover.stateFile;
  const { state, exists } = await readState(statePath, config.phase);
  const base = {
    phase: state.phase,
    ...(state.since ? { since: state.since } : {}),
    stateExists: exists,
    statePath,
    ...(state.history.length > 0 ? { last: state.history.at(-1)! } : {}),
    transitions: state.history.length,
  };
  const decision = decideAdvance(state.phase, undefined);
  if (!decision.ok) return { exitCode: ExitCode.ok, ...base };
  const next = { phase: decision.to, gateDescription: gateDescription(config, decision.to) };
  if (options.gate === false) return { exitCode: ExitCode.ok, ...base, next };
  const since = soakStart(options.soak, options.now) ?? state.since;
  const gate = gateFor(options);
  const result = await gate({
    from: state.phase,
    to: decision.to,
    config: configForPhase(loaded, decision.to),
    ...(since ? { since } : {}),
    ...(options.nginx ? { nginxPath: options.nginx } : {}),
  });
  return { exitCode: verdictExitCode(result.verdict), ...base, next: { ...next, gate: result } };
}

export function formatCutoverStatusText(result: CutoverStatusResult): string {
  const lines = [
    `phase: ${result.phase}${result.since ? ` since ${result.since}` : result.stateExists ? '' : ` (from the config; no state file ${result.statePath} yet)`}`,
  ];
  if (result.last) {
    const l = result.last;
    lines.push(`last: ${l.kind} ${l.from} -> ${l.to} at ${l.at}${l.forcedBy ? ` by ${l.forcedBy}: ${l.reason}` : ''} (${result.transitions} transition${result.transitions === 1 ? '' : 's'})`);
  }
  if (!result.next) lines.push('next: none, this is the last phase');
  else {
    lines.push(`next: ${result.next.phase}; gate: ${result.next.gateDescription}`);
    if (result.next.gate) lines.push(...formatGate(result.next.gate, '  '));
  }
  return lines.join('\n');
}

// ---------------------------------------------------------------- advance / rollback

export interface CutoverMoveOptions extends CommonOptions {
  to?: string;
  dryRun?: boolean;
  nginxDir?: string;
  nginx?: string;
  reload?: boolean;
  reloadCommand?: string;
  testCommand?: string;
  pidFile?: string;
  errorLog?: string;
  reloadTimeout?: string;
  afterWrite?: (paths: string[]) => Promise<void>;
  now?: () => Date;
}

export interface CutoverAdvanceOptions extends CutoverMoveOptions {
  force?: boolean;
  reason?: string;
  soak?: string;
  parityLog?: string[];
  probe?: (ctx: GateContext) => Promise<GateResult>;
  gateImpl?: Gate;
  user?: string;
}

export type CutoverMoveResult = TransitionResult;

export async function runCutoverAdvance(options: CutoverAdvanceOptions): Promise<CutoverMoveResult> {
  return runTransition({
    ...(await moveOptions(options)),
    direction: 'advance',
    gate: gateFor(options),
    ...(options.force !== undefined ? { force: options.force } : {}),
    ...(options.reason !== undefined ? { reason: options.reason } : {}),
    ...(options.soak !== undefined ? { soak: options.soak } : {}),
    ...(options.user !== undefined ? { user: options.user } : {}),
  });
}

export async function runCutoverRollback(options: CutoverMoveOptions): Promise<CutoverMoveResult> {
  return runTransition({
    ...(await moveOptions(options)),
    direction: 'rollback',
    gate: async () => {
      throw new Error('rollback runs no gate');
    },
  });
}

async function moveOptions(options: CutoverMoveOptions) {
  const to = parsePhaseFlag(options.to, '--to');
  const needsLive = options.reload || options.testCommand !== undefined;
  let reloadTimeoutMs = 15_000;
  if (options.reloadTimeout !== undefined) {
    if (!durationPattern.test(options.reloadTimeout)) throw new UsageError(`--reload-timeout ${options.reloadTimeout}: expected a duration such as 15s`);
    reloadTimeoutMs = durationToMs(options.reloadTimeout);
  }
  if (!options.reload) {
    for (const [flag, value] of [['--reload-command', options.reloadCommand], ['--pid-file', options.pidFile], ['--error-log', options.errorLog]] as const) {
      if (value !== undefined) throw new UsageError(`${flag} only applies with --reload`);
    }
  }
  // The default commands name the nginx found on PATH (or /usr/sbin), which exit 3 explains when missing.
  const nginx = needsLive && (!options.testCommand || (options.reload && !options.reloadCommand)) ? await findNginx(options.nginx) : undefined;
  const testCommand = options.testCommand ?? (options.reload ? `${nginx} -t` : undefined);
  const live: LiveNginx | undefined = options.reload
    ? {
        testCommand: testCommand!,
        reloadCommand: options.reloadCommand ?? `${nginx} -s reload`,
        pidFile: options.pidFile ?? '/run/nginx.pid',
        errorLog: options.errorLog ?? '/var/log/nginx/error.log',
        reloadTimeoutMs,
      }
    : undefined;
  // Read and validated once for the whole transition; it names where the state and
  // the include files live, and flags override it.
  const loaded = await loadConfig(options.config ?? defaultConfigPath);
  return {
    config: loaded,
    statePath: options.state ?? loaded.config.cutover.stateFile,
    nginxDir: options.nginxDir ?? loaded.config.cutover.nginxDir,
    ...(to ? { to } : {}),
    ...(options.dryRun ? { dryRun: true } : {}),
    ...(options.nginx ? { nginxPath: options.nginx } : {}),
    ...(testCommand ? { liveTest: { testCommand } } : {}),
    ...(live ? { reload: live } : {}),
    ...(options.afterWrite ? { afterWrite: options.afterWrite } : {}),
    ...(options.now ? { now: options.now } : {}),
  };
}

export function formatCutoverMoveText(result: CutoverMoveResult): string {
  const verb = result.direction === 'advance' ? 'advance' : 'rollback';
  const head =
    result.outcome === 'done'
      ? `${result.kind === 'forced' ? 'FORCED ' : ''}${verb.toUpperCase()} DONE: ${result.from} -> ${result.to}`
      : result.outcome === 'dry-run'
        ? `DRY RUN: ${verb} ${result.from} -> ${result.to} would go ahead; nothing was changed`
        : result.outcome === 'refused'
          ? `REFUSED: ${verb} ${result.from} -> ${result.to}`
          : `FAILED AND RESTORED: ${verb} ${result.from} -> ${result.to}`;
  const lines = [head];
  if (result.skipped.length > 0) lines.push(`  skips: ${result.skipped.join(', ')}`);
  if (result.gate) lines.push(...formatGate(result.gate, '  '));
  if (result.validation) lines.push(`  nginx -t of the ${result.to} render: ${result.validation.ok ? 'passed, lint clean' : 'FAILED'}`);
  if (result.liveTest) lines.push(`  live config test: ${result.liveTest.ok ? 'passed' : `failed (exit ${result.liveTest.exitCode})`}`);
  if (result.reload) lines.push(`  reload: ${result.reload.took ? 'took' : 'did NOT take'}: ${result.reload.detail} (${result.reload.ms} ms)`);
  for (const p of result.problems) lines.push(`  ${p}`);
  if (result.outcome === 'done') {
    for (const f of result.files) lines.push(`  wrote ${f.path}`);
    if (result.backup) lines.push(`  previous files kept in ${result.backup}`);
    lines.push(`  state: ${result.statePath} (${result.transition!.renderedHash.slice(0, 19)}…)`);
    if (result.transition?.forcedBy) lines.push(`  forced by ${result.transition.forcedBy}: ${result.transition.reason}`);
  }
  for (const n of result.notes) lines.push(`  note: ${n}`);
  if (result.outcome === 'dry-run') {
    lines.push(result.diff ? `  changes to ${result.nginxDir}:` : '  no change to the nginx files', ...indent(result.diff, '  '));
  }
  return lines.join('\n');
}

// ---------------------------------------------------------------- shared

function gateFor(options: { gateImpl?: Gate; probe?: (ctx: GateContext) => Promise<GateResult>; parityLog?: string[] }): Gate {
  return options.gateImpl ?? defaultGate({ ...(options.probe ? { probe: options.probe } : {}), ...(options.parityLog ? { parityLog: options.parityLog } : {}) });
}

function soakStart(soak: string | undefined, now: (() => Date) | undefined): string | undefined {
  if (soak === undefined) return undefined;
  if (!durationPattern.test(soak)) throw new UsageError(`--soak ${soak}: expected a duration such as 30m, 1h or 1d`);
  return new Date((now?.() ?? new Date()).getTime() - durationToMs(soak)).toISOString();
}

function formatGate(gate: GateResult, prefix: string): string[] {
  const figures = Object.entries(gate.figures).map(([k, v]) => `${k} ${v}`).join('  ');
  return [`${prefix}gate: ${gate.verdict.toUpperCase()}: ${gate.summary}`, ...(figures ? [`${prefix}  ${figures}`] : [])];
}

function indent(text: string, prefix: string): string[] {
  return text === '' ? [] : text.trimEnd().split('\n').map((l) => `${prefix}${l}`);
}
