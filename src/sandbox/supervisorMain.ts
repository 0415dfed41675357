/**
 * The process `mirror sandbox up` leaves running: it starts the full sandbox,
 * writes its endpoints and every part's pid to `state.json` in the state
 * directory, watches the parts (a crash is written there, not hidden), and on
 * SIGTERM stops everything it started and removes the state file. Its parts run
 * in process groups of their own, so nothing but this process can stop them: a
 * signal while it is still starting, or a failure of its own, stops them too.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { parse, stringify } from 'yaml';
import { join } from 'node:path';
import { startFullSandbox } from './fullSandbox.js';
import { writeState, type SandboxState } from './sandboxState.js';
import { isAlive as alive } from '../os/processes.js';
import type { Phase } from '../config/phases.js';
import { placeShipperState, shipsFromLog, startSandboxShipper, type SandboxShipper } from './sandboxShipper.js';

const [stateDir, phaseArg, sampleArg, configArg, consumerArg] = process.argv.slice(2);
if (!stateDir) throw new Error('usage: supervisorMain STATE_DIR [PHASE] [SAMPLE|""] [USER_CONFIG|""] [consumer]');
const phase = (phaseArg ?? 'shadow') as Phase;
// The user's mirror.yaml, raw: `mirror sandbox up` validated it before starting this process.
const userConfig = configArg ? (parse(await readFile(configArg, 'utf8')) as Record<string, any>) : undefined;

// A stop asked for while the parts are still starting is carried out once they are up.
let stopRequested = false;
let stopNow: (() => Promise<void>) | undefined;
const onSignal = () => {
  stopRequested = true;
  void stopNow?.();
};
process.on('SIGTERM', onSignal);
process.on('SIGINT', onSignal);

const sandbox = await startFullSandbox({
  phase,
  ...(sampleArg ? { sample: Number(sampleArg) } : {}),
  ...(userConfig ? { userConfig } : {}),
  gatewayLogPath: join(stateDir, 'gateway.log'),
  ...(consumerArg === 'consumer' ? { consumer: true } : {}),
});
const { stack } = sandbox;
let watch: NodeJS.Timeout | undefined;
let stopping = false;
let shipper: SandboxShipper | undefined;
stopNow = async () => {
  if (stopping) return;
  stopping = true;
  if (watch) clearInterval(watch);
  // The shipper first: it finishes its sends while the gateway still answers.
  await shipper?.stop().catch(() => undefined);
  await sandbox.stop();
  await rm(join(stateDir, 'state.json'), { force: true }).catch(() => undefined);
  process.exit(0);
};
const failed = (error: unknown) => {
  console.error(`sandbox supervisor: ${error instanceof Error ? error.stack : String(error)}; stopping every part`);
  void stopNow!();
};
process.on('uncaughtException', failed);
process.on('unhandledRejection', failed);
if (stopRequested) await stopNow();
// A config for the other commands (probe, verify, cutover): the sandbox's own, SQS pointed at fauxqs.
const configPath = join(stateDir, 'mirror.yaml');
const configTree = sandbox.configTree();
// cutover reads and writes beside the sandbox: its state here, the include files where this nginx loads them.
configTree.cutover = { ...configTree.cutover, stateFile: join(stateDir, 'cutover.json'), nginxDir: join(stack.harness.prefix, 'conf') };
// mirror.transport: ship: the shipper is a part, its state here, as its service would run.
const shipMetricsUrl = shipsFromLog(configTree) ? await placeShipperState(configTree, stateDir) : undefined;
await writeFile(configPath, stringify(configTree), { mode: 0o600 }).catch(async (error: unknown) => {
  failed(error);
  await new Promise<never>(() => undefined); // stopNow exits the process
});
if (shipMetricsUrl) {
  shipper = await startSandboxShipper({ configPath, parityLog: stack.parityLogPath, metricsUrl: shipMetricsUrl, logPath: join(stateDir, 'ship.log') }).catch(async (error: unknown) => {
    failed(error);
    return new Promise<never>(() => undefined);
  });
  if (stopRequested) await stopNow();
}
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
    ...(shipper ? { shipMetrics: shipper.metricsUrl, shipLog: join(stateDir, 'ship.log') } : {}),
  },
  parts: [
    { name: 'supervisor (gateway stand-in, origin)', pid: process.pid },
    { name: 'nginx', pid: stack.nginx.pid },
    { name: 'dnsmasq', pid: stack.dns?.pid ?? 0 },
    { name: 'fauxqs', pid: sandbox.fauxqs.pid },
    ...(shipper ? [{ name: 'mirror ship', pid: shipper.pid }] : []),
  ],
  crashed: [],
};
await writeState(stateDir, state).catch(async (error: unknown) => {
  failed(error);
  await new Promise<never>(() => undefined);
});

watch = setInterval(() => {
  const dead = state.parts.filter((p) => p.pid > 0 && !alive(p.pid)).map((p) => p.name);
  const fresh = dead.filter((d) => !state.crashed.includes(d));
  if (fresh.length > 0) {
    state.crashed.push(...fresh);
    state.status = 'degraded';
    void writeState(stateDir, state);
  }
}, 500);
