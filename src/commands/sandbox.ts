/**
 * `mirror sandbox up|down|status`: the full sandbox as long-running processes.
 * `up` starts a supervisor process that owns every part, waits until it reports
 * its endpoints, and prints them; `down` stops exactly what `up` started and
 * waits until no part's process is left; `status` reports each part, and a crash.
 */
import { mkdir, open, readFile, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { spawn } from 'node:child_process';
import { ExitCode, UsageError } from '../errors.js';
import { readState, type SandboxState } from '../sandbox/sandboxState.js';
import { waitFor } from '../os/childProcess.js';
import { nodeEntryArgs } from '../os/nodeEntry.js';
import { isAlive as alive } from '../os/processes.js';
import { parse as parseYaml } from 'yaml';
import { isPhase, phases, type Phase } from '../config/phases.js';

const defaultSandboxDir = '.mirror-sandbox';

export interface SandboxOptions {
  dir?: string;
  /** The user's mirror.yaml: its names run in the sandbox (up only). */
  config?: string;
  phase?: string;
  sample?: number;
  /** Run a consumer that receives and deletes (up only): the queue is live, verify judges in ack mode. */
  consumer?: boolean;
  timeoutMs?: number;
}

export interface SandboxResult {
  exitCode: ExitCode;
  action: 'up' | 'down' | 'status';
  dir: string;
  state?: SandboxState;
  /** For status: whether each part's process is alive. */
  parts?: { name: string; pid: number; alive: boolean }[];
  message: string;
}

export async function sandboxUp(options: SandboxOptions): Promise<SandboxResult> {
  const dir = resolve(options.dir ?? defaultSandboxDir);
  const phase = options.phase ?? 'shadow';
  if (!isPhase(phase)) throw new UsageError(`--phase ${phase}: expected one of ${phases.join(', ')}`);
  if (options.sample !== undefined && (!Number.isInteger(options.sample) || options.sample < 0 || options.sample > 100)) {
    throw new UsageError(`--sample ${String(options.sample)}: expected a whole percent from 0 to 100`);
  }
  const userConfigPath = options.config === undefined ? undefined : resolve(options.config);
  if (userConfigPath) await checkUserConfig(userConfigPath, phase);
  const running = await readState(dir);
  if (running && alive(running.supervisorPid)) throw new UsageError(`a sandbox is already running from ${dir} (pid ${running.supervisorPid}); run mirror sandbox down first`);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const logPath = join(dir, 'supervisor.log');
  const log = await open(logPath, 'w', 0o600);
  // A daemon: its own process group, its output in the state dir, outliving this command.
  const child = spawn(process.execPath, [...nodeEntryArgs('../sandbox/supervisorMain', import.meta.url), dir, phase, options.sample === undefined ? '' : String(options.sample), ...(userConfigPath || options.consumer ? [userConfigPath ?? ''] : []), ...(options.consumer ? ['consumer'] : [])], {
    detached: true,
    stdio: ['ignore', log.fd, log.fd],
  });
  await log.close();
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  try {
    await waitFor(async () => {
      if (exited) throw new Error(`the sandbox supervisor exited while starting: ${await tail(logPath)}`);
      return (await readState(dir))?.supervisorPid === child.pid;
    }, { timeoutMs: options.timeoutMs ?? 90_000, what: 'the sandbox to start' });
  } catch (error) {
    if (!exited && child.pid) process.kill(-child.pid, 'SIGTERM');
    throw error;
  }
  // Only now let this command exit without it: until the state is written, the
  // child is what keeps the event loop (and so the wait) alive.
  child.unref();
  const state = (await readState(dir))!;
  return { exitCode: ExitCode.ok, action: 'up', dir, state, message: `sandbox up (${phase}); state in ${join(dir, 'state.json')}` };
}

export async function sandboxDown(options: SandboxOptions): Promise<SandboxResult> {
  const dir = resolve(options.dir ?? defaultSandboxDir);
  const state = await readState(dir);
  if (!state) return { exitCode: ExitCode.ok, action: 'down', dir, message: `no sandbox state in ${dir}: nothing to stop` };
  const pids = state.parts.map((p) => p.pid).filter((pid) => pid > 0);
  if (alive(state.supervisorPid)) process.kill(state.supervisorPid, 'SIGTERM');
  try {
    await waitFor(() => pids.every((pid) => !alive(pid)), { timeoutMs: options.timeoutMs ?? 20_000, what: 'every sandbox part to stop' });
  } catch {
    // A part that ignored the supervisor: end it, and say so.
    for (const pid of pids.filter(alive)) process.kill(pid, 'SIGKILL');
  }
  const left = pids.filter(alive);
  await rm(join(dir, 'state.json'), { force: true });
  return {
    exitCode: left.length === 0 ? ExitCode.ok : ExitCode.checkFailed,
    action: 'down',
    dir,
    state,
    message: left.length === 0 ? `sandbox down: stopped ${state.parts.map((p) => `${p.name} (${p.pid})`).join(', ')}` : `processes still running: ${left.join(', ')}`,
  };
}

export async function sandboxStatus(options: SandboxOptions): Promise<SandboxResult> {
  const dir = resolve(options.dir ?? defaultSandboxDir);
  const state = await readState(dir);
  if (!state) return { exitCode: ExitCode.checkFailed, action: 'status', dir, message: `no sandbox running from ${dir}` };
  const parts = state.parts.map((p) => ({ ...p, alive: p.pid > 0 && alive(p.pid) }));
  const dead = parts.filter((p) => !p.alive);
  return {
    exitCode: dead.length === 0 ? ExitCode.ok : ExitCode.checkFailed,
    action: 'status',
    dir,
    state,
    parts,
    message: dead.length === 0 ? `sandbox running (${state.phase}) since ${state.startedAt}` : `sandbox degraded: ${dead.map((p) => `${p.name} (pid ${p.pid}) is not running`).join('; ')}`,
  };
}

export function formatSandboxText(result: SandboxResult): string {
  const lines = [result.message];
  if (result.state && result.action !== 'down') {
    for (const [name, value] of Object.entries(result.state.endpoints)) lines.push(`  ${name.padEnd(14)} ${value}`);
  }
  for (const p of result.parts ?? []) lines.push(`  ${p.alive ? 'running' : 'STOPPED'}  ${p.name} (pid ${p.pid})`);
  return lines.join('\n');
}

/**
 * The user's config as the sandbox will run it (their names, the example for what
 * they leave out, the local parts), checked before any process starts: a bad key is
 * exit 2 naming it, not a supervisor that dies while starting.
 */
async function checkUserConfig(path: string, phase: Phase): Promise<void> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}; expected a mirror.yaml`);
  }
  let user: unknown;
  try {
    user = parseYaml(text);
  } catch (error) {
    throw new UsageError(`${path} is not valid YAML: ${(error as Error).message}`);
  }
  if (typeof user !== 'object' || user === null || Array.isArray(user)) throw new UsageError(`${path}: expected a mapping of config keys`);
  // Loaded here, not at the top: down and status need no AWS SDK.
  const { gatewayConfig } = await import('../sandbox/fullSandbox.js');
  try {
    gatewayConfig(phase, undefined, user as Record<string, unknown>);
  } catch (error) {
    throw new UsageError(`${path} cannot run in the sandbox: ${(error as Error).message}`);
  }
}

async function tail(path: string): Promise<string> {
  return (await readFile(path, 'utf8').catch(() => '')).split('\n').slice(-8).join('\n');
}
