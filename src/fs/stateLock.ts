/**
 * One writer at a time per state file: one cutover advance or rollback per cutover
 * state, one `mirror ship` per checkpoint. The lock is a file next to the state,
 * created with link(2) from a complete temp file, so it appears with its contents
 * or not at all (an O_EXCL create could be seen empty). A lock whose pid is no
 * longer alive on this host, or is this very process's (a previous incarnation
 * with the same pid: containers and reboots reuse pids), is stale and taken over,
 * and the result says so.
 */
import { link, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { dirname, basename, join } from 'node:path';
import { CheckFailedError } from '../errors.js';
import { isAlive as isAliveOnThisHost } from '../os/processes.js';

interface LockOwner {
  pid: number;
  host: string;
  startedAt: string;
  command: string;
  token: string;
}

export interface HeldLock {
  path: string;
  owner: LockOwner;
  /** Set when a stale lock was taken over: what it said. */
  tookOver?: LockOwner;
  release(): Promise<void>;
}

/** Another run holds the lock: exit 1, naming the file and the pid. */
export class StateLockedError extends CheckFailedError {}

export function lockPathFor(statePath: string): string {
  return `${statePath}.lock`;
}

/**
 * `command` is what the lock file says holds it; `holder` names such a run in the
 * refusal ("another cutover run"), and `why` says what the lock prevents.
 */
export async function acquireLock(statePath: string, command: string, holder = 'another cutover run', why = 'so two runs never interleave'): Promise<HeldLock> {
  const path = lockPathFor(statePath);
  await mkdir(dirname(path), { recursive: true });
  const owner: LockOwner = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString(), command, token: randomBytes(8).toString('hex') };
  let tookOver: LockOwner | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    if (await tryCreate(path, owner)) return held(path, owner, tookOver);
    const current = await readOwner(path);
    if (current === 'gone') continue;
    if (current === 'unreadable' || isAlive(current)) {
      const who = current === 'unreadable' ? 'an unreadable owner' : `pid ${current.pid} on ${current.host}, \`${current.command}\` since ${current.startedAt}`;
      throw new StateLockedError(`${holder} holds the lock ${path} (${who}): refused, ${why}`, [
        'wait for it to finish; if that process is gone, remove the lock file and run again',
      ]);
    }
    // Stale: remove exactly the file we read (its token), then race for a fresh create.
    const again = await readOwner(path);
    if (typeof again === 'object' && again.token === current.token) await rm(path, { force: true });
    tookOver = current;
  }
  throw new StateLockedError(`could not take the lock ${path}: other runs keep taking it`);
}

async function tryCreate(path: string, owner: LockOwner): Promise<boolean> {
  const temp = join(dirname(path), `.${basename(path)}.${owner.token}.tmp`);
  await writeFile(temp, `${JSON.stringify(owner)}\n`, { mode: 0o600 });
  try {
    await link(temp, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    await rm(temp, { force: true });
  }
}

async function readOwner(path: string): Promise<LockOwner | 'gone' | 'unreadable'> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'gone' : 'unreadable';
  }
  try {
    const owner = JSON.parse(text) as LockOwner;
    return Number.isInteger(owner.pid) && typeof owner.token === 'string' ? owner : 'unreadable';
  } catch {
    return 'unreadable';
  }
}

/**
 * A pid on another host cannot be checked: treat it as alive. EPERM means alive,
 * owned by someone else. Our own pid in a lock we have not taken is a previous
 * process's that had the same pid.
 */
function isAlive(owner: LockOwner): boolean {
  if (owner.host !== hostname()) return true;
  return owner.pid === process.pid ? heldHere.has(owner.token) : isAliveOnThisHost(owner.pid);
}

/** Tokens of the locks this process holds now (a second holder in the same process is refused too). */
const heldHere = new Set<string>();

function held(path: string, owner: LockOwner, tookOver: LockOwner | undefined): HeldLock {
  heldHere.add(owner.token);
  return {
    path,
    owner,
    ...(tookOver ? { tookOver } : {}),
    async release() {
      heldHere.delete(owner.token);
      const current = await readOwner(path);
      if (typeof current === 'object' && current.token === owner.token) await rm(path, { force: true });
    },
  };
}
