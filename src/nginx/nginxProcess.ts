/**
 * Runs the real nginx on a harness in the foreground (`daemon off`), for the
 * tests, the sandbox and the demo. Ready means the listen socket accepts; stop
 * means master and workers are gone.
 */
import { connect } from 'node:net';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { harnessArgs, type Harness } from './harness.js';
import { reloadAndConfirm } from './liveNginx.js';
import { childPids, isAlive } from '../os/processes.js';
import { stopChild, waitFor } from '../os/childProcess.js';

export interface NginxProcess {
  pid: number;
  harness: Harness;
  /** `nginx -s reload`, then waits until a new generation of workers serves. */
  reload(): Promise<void>;
  errorLog(): Promise<string>;
  stop(): Promise<void>;
}

export interface StartNginxOptions {
  readyTimeoutMs?: number;
}

export async function startNginx(nginxPath: string, harness: Harness, options: StartNginxOptions = {}): Promise<NginxProcess> {
  const child = execa(nginxPath, harnessArgs(harness), {
    reject: false,
    // Its own process group, so a forced stop takes the workers with the master.
    detached: true,
    stdin: 'ignore',
    stdout: 'ignore',
    stderr: 'pipe',
    buffer: { stderr: true },
  });
  const exited = child.then((result) => result);
  let stopped = false;
  const { host, port } = parseListen(harness.listen);
  try {
    // Listening is not enough: the master binds its sockets before it writes the pid
    // file and starts its workers, and callers (cutover) read both.
    const pidFile = join(harness.prefix, 'nginx.pid');
    await waitFor(
      async () =>
        (await canConnect(host, port)) &&
        (await readFile(pidFile, 'utf8').then((t) => Number(t.trim()) === child.pid, () => false)) &&
        (await childPids(child.pid!)).length > 0,
      {
        timeoutMs: options.readyTimeoutMs ?? 15_000,
        what: `nginx listening on ${harness.listen}`,
        describe: async () => `nginx did not start listening on ${harness.listen}: ${await tail(harness.errorLogPath)}`,
        failure: exited.then(async (r) => `nginx exited with ${r.exitCode ?? r.signal} before it was ready: ${r.stderr} ${await tail(harness.errorLogPath)}`),
      },
    );
  } catch (error) {
    await forceStop(child);
    throw error;
  }
  const pid = child.pid!;
  return {
    pid,
    harness,
    async reload() {
      // The cutover's confirmation: a new worker generation and every old worker retired.
      const outcome = await reloadAndConfirm({
        reloadCommand: [nginxPath, '-s', 'reload', ...harnessArgs(harness)].join(' '),
        pidFile: join(harness.prefix, 'nginx.pid'),
        errorLog: harness.errorLogPath,
        reloadTimeoutMs: 15_000,
      });
      if (!outcome.took) throw new Error(`nginx reload did not take: ${outcome.detail}`);
    },
    errorLog: () => readFile(harness.errorLogPath, 'utf8').catch(() => ''),
    async stop() {
      if (stopped) return;
      stopped = true;
      await forceStop(child);
    },
  };
}

async function forceStop(child: ResultPromise): Promise<void> {
  if (child.exitCode !== null || child.pid === undefined) return;
  const group = -child.pid;
  // SIGTERM is nginx's fast shutdown: the master stops its workers and exits.
  await stopChild(child, 5000);
  // Workers may outlive the master by a moment; wait until the group is empty.
  await waitFor(() => !isAlive(group), { timeoutMs: 5000, what: 'nginx workers', describe: async () => 'nginx workers did not exit' });
}

function parseListen(listen: string): { host: string; port: number } {
  const match = /^(.*):(\d+)$/.exec(listen);
  if (!match) throw new Error(`harness listen ${listen} is not host:port`);
  return { host: match[1]!.replace(/^\[|\]$/g, ''), port: Number(match[2]) };
}

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function tail(path: string): Promise<string> {
  const text = await readFile(path, 'utf8').catch(() => '');
  return text.split('\n').slice(-5).join('\n').trim() || '(error log empty)';
}
