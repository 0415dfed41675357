/** Questions about processes by pid, for the sandbox, nginx and the cutover lock. */
import { readFile } from 'node:fs/promises';
import { execa } from 'execa';

/**
 * Whether a process (or, with a negative id, a process group) exists. Signal 0
 * checks without sending anything; EPERM means it exists and belongs to someone else.
 */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The pids of a process's children: /proc where there is one, `ps` otherwise. */
export async function childPids(parentPid: number): Promise<number[]> {
  const children = await readFile(`/proc/${parentPid}/task/${parentPid}/children`, 'utf8').catch(() => undefined);
  if (children !== undefined) return children.trim().split(/\s+/).filter(Boolean).map(Number);
  const ps = await execa('ps', ['-o', 'pid=', '--ppid', String(parentPid)], { reject: false });
  return ps.stdout.split('\n').map((l) => Number(l.trim())).filter((n) => n > 0);
}
