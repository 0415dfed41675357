/**
 * The running nginx the include files belong to: test its whole config with the
 * new files in place, reload it, and confirm the reload took.
 *
 * How "took" is decided: nginx's master, on SIGHUP, parses the whole config
 * again; only when that succeeds does it start a new generation of worker
 * processes and ask the old ones to finish gracefully. When the parse fails it
 * logs `[emerg]` to the error log it already has open and keeps the old workers
 * (http://nginx.org/en/docs/control.html, "Changing Configuration"). So: note
 * the master's children and the error log's length before the signal; the
 * reload took once a child appears that was not there before and every old
 * worker has left or is shutting down (see allRetired), and failed if
 * `[emerg]`/`[alert]`/`[crit]` appears after the noted length first, or if
 * neither happens in time. A reload command that exits non-zero failed too
 * (`nginx -s reload` parses the config itself first and signals nothing when
 * it is broken).
 */
import { readFile, stat, open } from 'node:fs/promises';
import { execa, parseCommandString } from 'execa';
import { parseNginxMessages, isFailure, type NginxMessage } from './nginxMessages.js';
import { childPids, isAlive } from '../os/processes.js';
import { waitFor } from '../os/childProcess.js';

export interface LiveNginx {
  /** e.g. `nginx -t` or `nginx -t -c /etc/nginx/nginx.conf`. */
  testCommand: string;
  /** e.g. `nginx -s reload` or `systemctl reload nginx`. */
  reloadCommand: string;
  /** The master's pid file (`pid` directive). */
  pidFile: string;
  /** The main error log (`error_log` directive), where a failed reload's [emerg] goes. */
  errorLog: string;
  reloadTimeoutMs: number;
}

export interface LiveTestResult {
  ok: boolean;
  exitCode: number;
  messages: NginxMessage[];
  output: string;
}

export async function testLiveConfig(live: Pick<LiveNginx, 'testCommand'>, fileMap: Record<string, string> = {}): Promise<LiveTestResult> {
  const [file, ...args] = parseCommandString(live.testCommand);
  const result = await execa(file!, args, { reject: false, timeout: 30_000 });
  const output = `${result.stderr}\n${result.stdout}`.trim();
  const messages = parseNginxMessages(output, fileMap);
  const exitCode = result.exitCode ?? 1;
  return { ok: exitCode === 0 && !messages.some(isFailure), exitCode, messages, output };
}

export async function readMasterPid(pidFile: string): Promise<number> {
  const text = await readFile(pidFile, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new NginxNotRunningError(`cannot read the nginx pid file ${pidFile} (${error.code ?? error.message})`);
  });
  const pid = Number(text.trim());
  if (!Number.isInteger(pid) || pid <= 0) throw new NginxNotRunningError(`the nginx pid file ${pidFile} holds ${JSON.stringify(text.trim())}, not a pid`);
  if (!isAlive(pid)) throw new NginxNotRunningError(`nginx is not running: pid ${pid} from ${pidFile} is gone`);
  return pid;
}

export class NginxNotRunningError extends Error {}

export interface ReloadOutcome {
  took: boolean;
  masterPid: number;
  /** Workers before and after (pids). */
  workersBefore: number[];
  workersAfter: number[];
  /** emerg/alert/crit lines the error log gained after the signal. */
  failures: string[];
  detail: string;
  ms: number;
}

export async function reloadAndConfirm(live: Omit<LiveNginx, 'testCommand'>): Promise<ReloadOutcome> {
  const started = Date.now();
  const masterPid = await readMasterPid(live.pidFile);
  const workersBefore = await childPids(masterPid);
  const offset = await fileSize(live.errorLog);
  const [file, ...args] = parseCommandString(live.reloadCommand);
  const command = await execa(file!, args, { reject: false, timeout: 30_000 });
  const base = { masterPid, workersBefore };
  if (command.exitCode !== 0) {
    const failures = parseNginxMessages(`${command.stderr}`).filter(isFailure).map((m) => `[${m.level}] ${m.text}`);
    return {
      ...base,
      took: false,
      workersAfter: await childPids(masterPid),
      failures,
      detail: `\`${live.reloadCommand}\` exited ${command.exitCode ?? command.signal}: ${(command.stderr || command.stdout).trim().split('\n').slice(-3).join(' | ') || '(no output)'}`,
      ms: Date.now() - started,
    };
  }
  let outcome: ReloadOutcome | undefined;
  let workersAfter = workersBefore;
  const noGeneration = `no new worker generation from master ${masterPid} within ${live.reloadTimeoutMs} ms`;
  try {
    await waitFor(
      async () => {
        const failures = errorLogFailures(await readFrom(live.errorLog, offset));
        workersAfter = await childPids(masterPid);
        const fresh = workersAfter.filter((p) => !workersBefore.includes(p));
        if (failures.length > 0) {
          outcome = { ...base, took: false, workersAfter, failures, detail: `nginx refused the new config: ${failures[0]}`, ms: Date.now() - started };
        } else if (fresh.length > 0 && (await allRetired(workersBefore))) {
          outcome = { ...base, took: true, workersAfter, failures, detail: `master ${masterPid} started new workers ${fresh.join(', ')} and retired ${workersBefore.join(', ') || 'none'}`, ms: Date.now() - started };
        }
        return outcome !== undefined;
      },
      { timeoutMs: live.reloadTimeoutMs, what: 'the reload', describe: async () => noGeneration },
    );
  } catch (error) {
    if ((error as Error).message !== noGeneration) throw error;
  }
  return (
    outcome ?? { ...base, took: false, workersAfter, failures: [], detail: `${noGeneration}, and nothing in ${live.errorLog}`, ms: Date.now() - started }
  );
}

/**
 * The old generation no longer takes connections once each old worker is gone or
 * has handled the master's QUIT: nginx then closes its listening sockets and
 * retitles it `nginx: worker process is shutting down` while in-flight requests
 * finish. Until then an old worker still accepts on the shared listen socket and
 * serves the old config, so "new workers exist" alone is not "new config active".
 */
async function allRetired(pids: readonly number[]): Promise<boolean> {
  for (const pid of pids) {
    const title = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => undefined);
    if (title === undefined || title === '') continue;
    if (!title.includes('shutting down') && !/^nginx: (cache|master)/.test(title)) return false;
  }
  return true;
}

/** Error log lines look like `2026/11/25 13:00:00 [emerg] 123#123: message`. */
function errorLogFailures(text: string): string[] {
  return text.split('\n').filter((line) => /\[(emerg|alert|crit)\]/.test(line)).map((line) => line.replace(/^\S+ \S+ /, '').trim());
}

async function fileSize(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

async function readFrom(path: string, offset: number): Promise<string> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch {
    return '';
  }
  try {
    const size = (await handle.stat()).size;
    // A rotated (smaller) log starts over.
    const start = size < offset ? 0 : offset;
    const buffer = Buffer.alloc(size - start);
    await handle.read(buffer, 0, buffer.length, start);
    return buffer.toString('utf8');
  } finally {
    await handle.close();
  }
}

/** The master's children: its workers (and cache processes), from /proc, no `ps` needed. */
