/**
 * One phase change, advance or rollback, done the same careful way: under the
 * lock, gate first (advance only), the new render checked by the real nginx -t
 * in a throwaway prefix, the old include files backed up, the new ones written
 * atomically, the live config tested, nginx reloaded and the reload confirmed,
 * and the state written last. Anything that fails after the write puts the
 * backup back (and reloads again when it had reloaded) and says so.
 */
import { userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { UsageError, ExitCode } from '../errors.js';
import { verdictExitCode } from '../verify/engine/gate.js';
import { configForPhase, type LoadedConfig } from '../config/load.js';
import type { Phase } from '../config/phases.js';
import { durationPattern, durationToMs } from '../config/nginxValues.js';
import { renderNginx, nginxFileNames, type RenderedFile } from '../render/nginxConfig.js';
import { loadTemplates } from '../render/templates.js';
import { findNginx } from '../nginx/nginxBinary.js';
import { checkRender } from '../validate/checkRender.js';
import { acquireLock, type HeldLock } from '../fs/stateLock.js';
import { readState, withTransition, writeState, type CutoverState, type Transition, type TransitionKind } from './state.js';
import { decideAdvance, decideRollback, filesDiff, renderedHash } from './plan.js';
import type { Gate, GateResult } from './gates.js';
import { checkShipperRunning } from './shipperRunning.js';
import { backupIncludeFiles, readIncludeFiles, restoreBackup, writeIncludeFiles, type Backup } from './nginxDir.js';
import { NginxNotRunningError, readMasterPid, reloadAndConfirm, testLiveConfig, type LiveNginx, type LiveTestResult, type ReloadOutcome } from '../nginx/liveNginx.js';

type Direction = 'advance' | 'rollback';

export interface TransitionOptions {
  direction: Direction;
  /** The config, read and validated once by the command; checked here for each phase it needs. */
  config: LoadedConfig;
  statePath: string;
  nginxDir: string;
  to?: Phase;
  force?: boolean;
  reason?: string;
  dryRun?: boolean;
  /** nginx binary for the throwaway `nginx -t` (default: found on PATH). */
  nginxPath?: string;
  /** The gate into the target phase (advance only). */
  gate: Gate;
  /** Soak window: a duration back from now (default: since the current phase was entered). */
  soak?: string;
  /** Test the live config after writing (`nginx -t`); implied by reload. */
  liveTest?: Pick<LiveNginx, 'testCommand'>;
  /** Reload the running nginx and confirm it took. */
  reload?: LiveNginx;
  /** Who forced; default the OS user. */
  user?: string;
  now?: () => Date;
  /** Test seam: runs right after the new files are written, before the live checks. */
  afterWrite?: (paths: string[]) => Promise<void>;
}

type TransitionOutcome = 'done' | 'dry-run' | 'refused' | 'restored';

export interface TransitionResult {
  exitCode: ExitCode;
  direction: Direction;
  outcome: TransitionOutcome;
  from: Phase;
  to: Phase;
  skipped: Phase[];
  kind?: TransitionKind;
  /** Why it was refused, or what failed before the backup was restored. */
  problems: string[];
  notes: string[];
  gate?: GateResult;
  validation?: { ok: boolean; nginxTest: string[]; lintErrors: string[] };
  diff: string;
  nginxDir: string;
  files: { name: string; path: string }[];
  renderedHash: string;
  backup?: string;
  liveTest?: Omit<LiveTestResult, 'output'>;
  reload?: ReloadOutcome;
  restore?: { restored: boolean; reload?: ReloadOutcome; error?: string };
  transition?: Transition;
  statePath: string;
  lock?: { path: string; tookOverStaleFrom?: number };
}

export async function runTransition(options: TransitionOptions): Promise<TransitionResult> {
  checkFlags(options);
  const lock = options.dryRun ? undefined : await acquireLock(options.statePath, `mirror cutover ${options.direction}`);
  try {
    const result = await transitionUnderLock(options, lock);
    return result;
  } finally {
    await lock?.release();
  }
}

function checkFlags(options: TransitionOptions): void {
  if (options.force && !options.reason?.trim()) {
    throw new UsageError('--force needs --reason TEXT: the reason is recorded in the cutover state with your user name');
  }
  if (options.reason !== undefined && !options.force) throw new UsageError('--reason is only recorded with --force; add --force or drop --reason');
  if (options.direction === 'rollback' && options.force) throw new UsageError('rollback takes no --force: it has no gate to pass');
  if (options.soak !== undefined && !durationPattern.test(options.soak)) throw new UsageError(`--soak ${options.soak}: expected a duration such as 30m, 1h or 1d`);
}

async function transitionUnderLock(options: TransitionOptions, lock: HeldLock | undefined): Promise<TransitionResult> {
  const now = options.now ?? (() => new Date());
  const notes: string[] = [];
  if (lock?.tookOver) notes.push(`took over a stale lock ${lock.path} left by pid ${lock.tookOver.pid} (${lock.tookOver.command}, since ${lock.tookOver.startedAt}), which is no longer running`);
  const { state, exists } = await readState(options.statePath, options.config.config.phase);
  if (!exists) notes.push(`no state file ${options.statePath} yet: starting from the config's phase ${state.phase}`);
  const from = state.phase;
  const decision = options.direction === 'advance' ? decideAdvance(from, options.to) : decideRollback(from, options.to);
  if (!decision.ok) throw new UsageError(decision.reason);
  const { to, skipped } = decision;
  if (options.direction === 'advance' && skipped.length > 0 && !options.force) {
    throw new UsageError(`advancing from ${from} to ${to} skips ${skipped.join(', ')}: that needs --force --reason TEXT (recorded in the state)`);
  }

  // The config checked for the target phase: its rules differ per phase (customDomain).
  const config = configForPhase(options.config, to);
  const rendered = renderNginx(config, to, await loadTemplates('nginx'));
  const nginxDir = resolve(options.nginxDir);
  const names = Object.values(nginxFileNames(config));
  const onDisk = await readIncludeFiles(nginxDir, names);
  const hash = renderedHash(rendered.files);
  const base: Omit<TransitionResult, 'exitCode' | 'outcome'> = {
    direction: options.direction,
    from,
    to,
    skipped,
    problems: [],
    notes,
    diff: diffAgainstDisk(onDisk, rendered.files, from, to),
    nginxDir,
    files: rendered.files.map((f) => ({ name: f.name, path: join(nginxDir, f.name) })),
    renderedHash: hash,
    statePath: options.statePath,
    ...(lock ? { lock: { path: lock.path, ...(lock.tookOver ? { tookOverStaleFrom: lock.tookOver.pid } : {}) } } : {}),
  };
  if (onDisk.every((f) => f.contents === undefined)) notes.push(`${nginxDir} has no include files yet: they will be created`);
  else {
    const expected = await Promise.resolve()
      .then(async () => renderNginx(configForPhase(options.config, from), from, await loadTemplates('nginx')))
      .catch(() => undefined);
    if (!expected || renderedHash(expected.files) !== renderedHash(onDisk.map((f) => ({ name: f.name, contents: f.contents ?? '' })))) {
      notes.push(`the files in ${nginxDir} are not what this config renders for ${from} (edited by hand, or another config?): the diff is against what is on disk, and the backup keeps it`);
    }
  }

  // With ship, a shadow phase needs the shipper running: the cutover starts nothing itself.
  // --force does not pass this: without the shipper the phase would send nothing at all.
  const shipper = await checkShipperRunning(config, to, now());
  if (shipper.needed && !shipper.ok) {
    if (options.direction === 'advance') {
      return { ...base, exitCode: ExitCode.checkFailed, outcome: 'refused', problems: [shipper.problem, 'nothing was written'] };
    }
    notes.push(`rolling back anyway (a rollback has no gate), but: ${shipper.problem}`);
  } else if (shipper.needed) notes.push(`the shipper is running: its checkpoint ${config.ship.checkpoint} was written ${(shipper.ageMs / 1000).toFixed(1)} s ago`);

  // The gate (advance only).
  let gate: GateResult | undefined;
  let kind: TransitionKind = options.direction === 'rollback' ? 'rollback' : 'advance';
  if (options.direction === 'advance') {
    const since = options.soak ? new Date(now().getTime() - durationToMs(options.soak)).toISOString() : state.since;
    gate = await options.gate({ from, to, config, ...(since ? { since } : {}), ...(options.nginxPath ? { nginxPath: options.nginxPath } : {}) });
    if (gate.verdict !== 'pass') {
      if (!options.force) {
        return {
          ...base,
          gate,
          exitCode: verdictExitCode(gate.verdict),
          outcome: 'refused',
          problems: [`the gate into ${to} is ${gate.verdict}; nothing was written. Pass the gate, or --force --reason TEXT to go anyway (recorded)`],
        };
      }
      notes.push(`the gate into ${to} is ${gate.verdict}, passed by --force: ${options.reason}`);
    }
    if (options.force && (gate.verdict !== 'pass' || skipped.length > 0)) kind = 'forced';
    else if (options.force) notes.push('--force was not needed: the gate passed and no phase was skipped; the reason is recorded anyway');
  }

  // The real nginx -t on the new render, in a throwaway prefix, before anything is written.
  const validation = await checkRender(config, to, await findNginx(options.nginxPath));
  const validationSummary = {
    ok: validation.ok,
    nginxTest: validation.nginxTest.messages.filter((m) => m.level !== 'notice').map((m) => `[${m.level}] ${m.text}${m.file ? ` (${m.file}:${m.line})` : ''}`),
    lintErrors: validation.lint.findings.filter((f) => f.severity === 'error').map((f) => `${f.ruleId}: ${f.message} (${f.file}:${f.line})`),
  };
  const withGate = { ...base, ...(gate ? { gate } : {}), validation: validationSummary, kind };
  if (!validationSummary.ok) {
    return {
      ...withGate,
      exitCode: ExitCode.checkFailed,
      outcome: 'refused',
      problems: [`the ${to} render does not validate (nothing was written; --force never writes a config nginx -t refuses):`, ...validationSummary.nginxTest, ...validationSummary.lintErrors],
    };
  }
  if (options.dryRun) return { ...withGate, exitCode: ExitCode.ok, outcome: 'dry-run' };

  // Before the write: a reload needs a running nginx.
  if (options.reload) {
    try {
      await readMasterPid(options.reload.pidFile);
    } catch (error) {
      if (error instanceof NginxNotRunningError) {
        return { ...withGate, exitCode: ExitCode.missingDependency, outcome: 'refused', problems: [`--reload: ${error.message}; nothing was written (start nginx, or pass --pid-file)`] };
      }
      throw error;
    }
  }

  const label = `${from}-to-${to}`;
  const backup = await backupIncludeFiles(nginxDir, names, label, now());
  const written = await writeIncludeFiles(nginxDir, rendered.files);
  const afterWrite = { ...withGate, backup: backup.dir };
  let liveTest: LiveTestResult | undefined;
  let reload: ReloadOutcome | undefined;
  try {
    await options.afterWrite?.(written);
    const testCommand = options.liveTest?.testCommand ?? options.reload?.testCommand;
    if (testCommand) {
      const fileMap = Object.fromEntries(written.map((p, i) => [p, rendered.files[i]!.name]));
      liveTest = await testLiveConfig({ testCommand }, fileMap);
      if (!liveTest.ok) {
        const lines = liveTest.messages.filter((m) => m.level !== 'notice').map((m) => `[${m.level}] ${m.text}${m.file ? ` (${m.file}:${m.line})` : ''}`);
        return await restore(options, backup, afterWrite, { liveTest }, [
          `\`${testCommand}\` refused the live config with the new ${to} files (exit ${liveTest.exitCode}):`,
          ...(lines.length > 0 ? lines : [liveTest.output.split('\n').slice(-3).join(' | ')]),
        ], false);
      }
    }
    if (options.reload) {
      reload = await reloadAndConfirm(options.reload);
      if (!reload.took) {
        return await restore(options, backup, afterWrite, { ...(liveTest ? { liveTest } : {}), reload }, [`the reload did not take: ${reload.detail}`], true);
      }
    }
    const transition: Transition = {
      at: now().toISOString(),
      from,
      to,
      kind,
      renderedHash: hash,
      ...(gate ? { gate: { verdict: gate.verdict, figures: gate.figures, summary: gate.summary } } : {}),
      ...(options.force ? { forcedBy: options.user ?? currentUser(), reason: options.reason! } : {}),
      nginxDir,
      backup: backup.dir,
      reloaded: reload?.took ?? false,
    };
    await writeState(options.statePath, withTransition(state, transition));
    if (!options.reload) notes.push(`nginx was not reloaded: run \`nginx -t && nginx -s reload\` (or pass --reload) to make ${to} active`);
    return {
      ...afterWrite,
      exitCode: ExitCode.ok,
      outcome: 'done',
      transition,
      ...(liveTest ? { liveTest: stripOutput(liveTest) } : {}),
      ...(reload ? { reload } : {}),
    };
  } catch (error) {
    const result = await restore(options, backup, afterWrite, { ...(liveTest ? { liveTest } : {}), ...(reload ? { reload } : {}) }, [`failed after the write: ${(error as Error).message}`], reload !== undefined);
    return result;
  }
}

/** Puts the backup back; reloads again when the failed attempt had signalled nginx. */
async function restore(
  options: TransitionOptions,
  backup: Backup,
  result: Omit<TransitionResult, 'exitCode' | 'outcome'>,
  checks: { liveTest?: LiveTestResult; reload?: ReloadOutcome },
  problems: string[],
  reloadAgain: boolean,
): Promise<TransitionResult> {
  const restoreReport: NonNullable<TransitionResult['restore']> = { restored: false };
  try {
    await restoreBackup(result.nginxDir, backup);
    restoreReport.restored = true;
    problems.push(`restored the previous files from ${backup.dir}`);
  } catch (error) {
    restoreReport.error = (error as Error).message;
    problems.push(`RESTORE FAILED: ${(error as Error).message}; copy the files back from ${backup.dir} by hand`);
  }
  if (restoreReport.restored && reloadAgain && options.reload) {
    try {
      restoreReport.reload = await reloadAndConfirm(options.reload);
      problems.push(
        restoreReport.reload.took
          ? `reloaded nginx with the restored files: ${restoreReport.reload.detail}`
          : `the reload with the restored files did not take either: ${restoreReport.reload.detail}; check nginx now`,
      );
    } catch (error) {
      restoreReport.error = (error as Error).message;
      problems.push(`the files are restored, but reloading nginx with them failed: ${(error as Error).message}; check nginx now`);
    }
  }
  problems.push(`the state stays at ${result.from}`);
  return {
    ...result,
    exitCode: ExitCode.checkFailed,
    outcome: 'restored',
    problems,
    restore: restoreReport,
    ...(checks.liveTest ? { liveTest: stripOutput(checks.liveTest) } : {}),
    ...(checks.reload ? { reload: checks.reload } : {}),
  };
}

function stripOutput(test: LiveTestResult): Omit<LiveTestResult, 'output'> {
  const { output: _output, ...rest } = test;
  return rest;
}

function diffAgainstDisk(onDisk: { name: string; contents?: string }[], files: RenderedFile[], from: Phase, to: Phase): string {
  const before = onDisk.filter((f) => f.contents !== undefined).map((f) => ({ name: f.name, contents: f.contents! }));
  return filesDiff(before, files, before.length > 0 ? `${from} (on disk)` : '(no file)', `${to} (rendered)`);
}

function currentUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? `uid ${process.getuid?.() ?? '?'}`;
  }
}

