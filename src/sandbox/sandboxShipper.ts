/**
 * The sandbox's `mirror ship` part, for configs with `mirror.transport: ship`:
 * the real CLI in a process group of its own, its state (checkpoint, ack log)
 * and output beside the sandbox's, its metrics on a free 127.0.0.1 port. The
 * sandbox starts it before the first phase change, as a user starts the service
 * before `cutover advance` (which refuses a shadow phase without it).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { waitFor } from '../os/childProcess.js';
import { freePort } from '../os/freePort.js';
import { nodeEntryArgs } from '../os/nodeEntry.js';
import { isAlive } from '../os/processes.js';

/** Whether a raw config tree says the shipper does the sending. */
export function shipsFromLog(tree: Record<string, any>): boolean {
  return tree.mirror?.transport === 'ship';
}

/**
 * Points the tree's ship state into `stateDir` and its metrics at a free port;
 * returns the metrics URL. Call before the config is written.
 */
export async function placeShipperState(tree: Record<string, any>, stateDir: string): Promise<string> {
  const port = await freePort();
  tree.ship = { ...tree.ship, checkpoint: join(stateDir, 'ship-checkpoint.json'), ackLog: join(stateDir, 'ship-ack.log'), listen: `127.0.0.1:${port}` };
  return `http://127.0.0.1:${port}/metrics`;
}

export interface SandboxShipper {
  pid: number;
  metricsUrl: string;
  /** SIGTERM: it finishes what is on the wire and writes its checkpoint; SIGKILL after `timeoutMs`. */
  stop(timeoutMs?: number): Promise<void>;
}

/** Starts `mirror ship -c configPath` and waits until it serves metrics (its signal handlers are in place then). */
export async function startSandboxShipper(options: { configPath: string; parityLog: string; metricsUrl: string; logPath: string; timeoutMs?: number }): Promise<SandboxShipper> {
  const log = await open(options.logPath, 'a', 0o600);
  let child: ChildProcess;
  try {
    // The parity log's rotated names too, so a restart finds unsent lines in a renamed file (docs/ship.md).
    child = spawn(process.execPath, [...nodeEntryArgs('../cli', import.meta.url), 'ship', '--config', options.configPath, '--parity-log', `${options.parityLog}*`], {
      detached: true,
      stdio: ['ignore', log.fd, log.fd],
    });
  } finally {
    await log.close();
  }
  let exited: string | undefined;
  const ended = new Promise<void>((resolve) => child.once('exit', (code, signal) => ((exited = `exited with ${code ?? signal}`), resolve())));
  const pid = child.pid!;
  const stop = async (timeoutMs = 20_000) => {
    if (exited === undefined && isAlive(pid)) process.kill(-pid, 'SIGTERM');
    const timer = new Promise<'late'>((resolve) => setTimeout(() => resolve('late'), timeoutMs).unref());
    if ((await Promise.race([ended.then(() => 'ended' as const), timer])) === 'late' && isAlive(pid)) {
      process.kill(-pid, 'SIGKILL');
      await ended;
    }
  };
  try {
    await waitFor(
      async () => {
        if (exited !== undefined) throw new Error(`mirror ship ${exited} while starting; its output is in ${options.logPath}`);
        return fetch(options.metricsUrl).then(
          (r) => (void r.body?.cancel(), r.ok),
          () => false,
        );
      },
      { timeoutMs: options.timeoutMs ?? 60_000, what: 'mirror ship serving its metrics' },
    );
  } catch (error) {
    await stop(5_000);
    throw error;
  }
  return { pid, metricsUrl: options.metricsUrl, stop };
}
