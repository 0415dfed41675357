/** The state file `mirror sandbox up` leaves behind for `status` and `down`. */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface SandboxState {
  status: 'running' | 'degraded';
  supervisorPid: number;
  startedAt: string;
  phase: string;
  endpoints: Record<string, string>;
  parts: { name: string; pid: number }[];
  /** Parts whose process has exited since `up`. */
  crashed: string[];
}

export async function writeState(dir: string, state: SandboxState): Promise<void> {
  const path = join(dir, 'state.json');
  await writeFile(`${path}.tmp`, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  await rename(`${path}.tmp`, path);
}

export async function readState(dir: string): Promise<SandboxState | undefined> {
  const text = await readFile(join(dir, 'state.json'), 'utf8').catch(() => undefined);
  return text === undefined ? undefined : (JSON.parse(text) as SandboxState);
}
