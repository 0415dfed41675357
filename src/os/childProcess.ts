/** Waiting on conditions and stopping child processes: the sandbox's parts, nginx, fauxqs. */
import type { ResultPromise } from 'execa';

export interface WaitOptions {
  timeoutMs: number;
  /** Named in the error when the deadline passes. */
  what: string;
  /** When this child exits first, fail at once with its stderr. */
  child?: ResultPromise;
  /** When this settles first, fail at once with its text (a richer message than `child` gives). */
  failure?: Promise<string>;
  /** The error when the deadline passes (default: `what` and the timeout). */
  describe?: () => Promise<string>;
}

/** Polls `condition` until it holds; never a fixed sleep. */
export async function waitFor(condition: () => Promise<boolean> | boolean, options: WaitOptions): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  let exited: string | undefined;
  let failed: string | undefined;
  void options.child?.then((r) => {
    exited = `exited with ${r.exitCode ?? r.signal}: ${String(r.stderr ?? '').trim().slice(-800)}`;
  });
  void options.failure?.then((text) => {
    failed = text;
  });
  for (let wait = 5; ; wait = Math.min(wait * 2, 100)) {
    if (failed !== undefined) throw new Error(failed);
    if (exited !== undefined) throw new Error(`${options.what}: the process ${exited}`);
    if (await condition()) return;
    if (Date.now() > deadline) throw new Error(options.describe ? await options.describe() : `${options.what}: not ready after ${options.timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, wait));
  }
}

/** SIGTERM to the child's process group, SIGKILL after `graceMs`; resolves when it is gone. */
export async function stopChild(child: ResultPromise, graceMs = 3_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) {
    await child.catch(() => undefined);
    return;
  }
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, signal);
    } catch {
      child.kill(signal);
    }
  };
  signalGroup('SIGTERM');
  const timer = setTimeout(() => signalGroup('SIGKILL'), graceMs);
  try {
    await child.catch(() => undefined);
  } finally {
    clearTimeout(timer);
  }
}
