/**
 * The process `mirror sandbox up` leaves running: it starts the full sandbox,
 * writes its endpoints and every part's pid to `state.json` in the state
 * directory, watches the parts (a crash is written there, not hidden), and on
 * SIGTERM stops everything it started and removes the state file.
 */
import { rm, writeFile } from 'node:fs/promises';
import { stringify } from 'yaml';
import { join } from 'node:path';
import { startFullSandbox } from './fullSandbox.js';
import { writeState, type SandboxState } from './sandboxState.js';
import { isAlive as alive } from './childProcess.js';
import type { Phase } from '../config/phases.js';

const [stateDir, phaseArg, sampleArg] = process.argv.slice(2);
if (!stateDir) throw new Error('usage: supervisorMain STATE_DIR [PHASE] [SAMPLE]');
const phase = (phaseArg ?? 'shadow') as Extract<Phase, 'shadow' | 'shadow-domain'>;

const sandbox = await startFullSandbox({ phase, sample: Number(sampleArg ?? 100), gatewayLogPath: join(stateDir, 'gateway.log') });
const { stack } = sandbox;
// A config for the other commands (probe, verify, cutover): the sandbox's own, SQS pointed at fauxqs.
const configPath = join(stateDir, 'mirror.yaml');
await writeFile(configPath, stringify(sandbox.configTree()), { mode: 0o600 });
const state: SandboxState = {
  status: 'running',
  supervisorPid: process.pid,
  startedAt: new Date().toISOString(),
  phase,
  endpoints: {
    callback: stack.callbackUrl,
    origin: stack.origin.url,
    gateway: `https://${stack.gateway.host}:${sandbox.gatewayPort}${stack.gateway.path}`,
    gatewayLocal: `https://127.0.0.1:${sandbox.gatewayPort}`,
    dns: stack.dns?.address ?? '',
    sqsEndpoint: sandbox.fauxqs.endpoint,
    queueUrl: sandbox.queueUrl,
    parityLog: stack.parityLogPath,
    nginxErrorLog: stack.harness.errorLogPath,
    gatewayLog: join(stateDir, 'gateway.log'),
    caCertificate: stack.ca.caPath,
    config: configPath,
  },
  parts: [
    { name: 'supervisor (gateway stand-in, origin)', pid: process.pid },
    { name: 'nginx', pid: stack.nginx.pid },
    { name: 'dnsmasq', pid: stack.dns?.pid ?? 0 },
    { name: 'fauxqs', pid: sandbox.fauxqs.pid },
  ],
  crashed: [],
};
await writeState(stateDir, state);

const watch = setInterval(() => {
  const dead = state.parts.filter((p) => p.pid > 0 && !alive(p.pid)).map((p) => p.name);
  const fresh = dead.filter((d) => !state.crashed.includes(d));
  if (fresh.length > 0) {
    state.crashed.push(...fresh);
    state.status = 'degraded';
    void writeState(stateDir, state);
  }
}, 500);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  clearInterval(watch);
  await sandbox.stop();
  await rm(join(stateDir, 'state.json'), { force: true });
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());

