/**
 * A running nginx for the cutover tests: the shadow stack (real nginx, origin,
 * dnsmasq, test CA, an HTTPS target for API Gateway), its config written as a
 * mirror.yaml, and the live-nginx flags that point `cutover` at it. The include
 * files live in the harness's conf/ directory, which is the --nginx-dir.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { startShadowStack, type ShadowStack } from '../../src/sandbox/shadowStack.js';
import { findNginx } from '../../src/nginx/nginxBinary.js';
import { sendCallbacks, trickyCallback } from '../../src/sandbox/callbacks.js';
import { bizppurio } from '../../src/vendors/bizppurio.js';
import { childPids } from '../../src/os/processes.js';
import type { GateResult } from '../../src/cutover/gates.js';
import type { Phase } from '../../src/config/phases.js';

export interface CutoverStack {
  stack: ShadowStack;
  configPath: string;
  statePath: string;
  nginxDir: string;
  /** Flags for runCutoverAdvance/Rollback that reload this nginx. */
  live: { reload: true; testCommand: string; reloadCommand: string; pidFile: string; errorLog: string; nginx: string };
  masterPid(): Promise<number>;
  workers(): Promise<number[]>;
  /** name -> sha256 of every file under --nginx-dir (backups included). */
  snapshot(): Promise<Record<string, string>>;
  includeFiles(): Promise<Record<string, string>>;
  /** Sends one callback and returns the phase nginx logged for it. */
  callbackPhase(seq: number): Promise<{ phase: string; sentToGateway: boolean; status: number }>;
  stop(): Promise<void>;
}

export async function startCutoverStack(phase: 'shadow' | 'shadow-domain' = 'shadow'): Promise<CutoverStack> {
  let raw: Record<string, unknown> | undefined;
  const stack = await startShadowStack({ phase, editConfig: (r) => (raw = structuredClone(r)) });
  try {
    const dir = await mkdtemp(join(tmpdir(), 'mirror-cutover-'));
    const configPath = join(dir, 'mirror.yaml');
    await writeFile(configPath, stringify(raw));
    const nginx = await findNginx();
    const h = stack.harness;
    const args = `-p ${h.prefix} -c ${h.confPath} -e ${h.errorLogPath}`;
    const nginxDir = join(h.prefix, 'conf');
    const masterPid = async () => Number((await readFile(join(h.prefix, 'nginx.pid'), 'utf8')).trim());
    let seen = 0;
    return {
      stack,
      configPath,
      statePath: join(dir, 'state', 'state.json'),
      nginxDir,
      live: {
        reload: true,
        testCommand: `${nginx} -t ${args}`,
        reloadCommand: `${nginx} -s reload ${args}`,
        pidFile: join(h.prefix, 'nginx.pid'),
        errorLog: h.errorLogPath,
        nginx,
      },
      masterPid,
      workers: async () => childPids(await masterPid()),
      snapshot: () => hashTree(nginxDir),
      async includeFiles() {
        const out: Record<string, string> = {};
        for (const file of stack.rendered.files) out[file.name] = await readFile(join(nginxDir, file.name), 'utf8');
        return out;
      },
      async callbackPhase(seq) {
        const [sent] = await sendCallbacks(stack.callbackUrl, [trickyCallback(bizppurio, seq)], { connections: 1 });
        seen += 1;
        await stack.waitForParityLines(seen);
        const line = (await stack.readParityLog()).at(-1)!;
        if (!line.ok) throw new Error(`parity log line did not parse: ${JSON.stringify(line)}`);
        return { phase: line.record.phase, sentToGateway: line.record.sentToGateway, status: sent!.status };
      },
      stop: () => stack.stop(),
    };
  } catch (error) {
    await stack.stop();
    throw error;
  }
}

async function hashTree(dir: string, prefix = ''): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) Object.assign(out, await hashTree(join(dir, entry.name), rel));
    else out[rel] = createHash('sha256').update(await readFile(join(dir, entry.name))).digest('hex');
  }
  return out;
}

export function gateOf(verdict: GateResult['verdict'], figures: GateResult['figures'] = {}): GateResult {
  return { verdict, figures: { parity: verdict === 'pass' ? 1 : 0.5, judged: 200, ...figures }, summary: `test gate says ${verdict}` };
}

export const passGate = async () => gateOf('pass');

