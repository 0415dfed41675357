/**
 * Pure: the systemd unit that runs `mirror ship` as a service (systemd.exec(5),
 * systemd.service(5)). It reads the parity logs and writes only its own state
 * (the checkpoint's and the ack log's directories); everything else is read-only.
 */
import Handlebars from 'handlebars';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { MirrorConfig } from '../config/types.js';
import { durationToMs } from '../config/nginxValues.js';
import { shipEnvironment } from './shipHeap.js';

/** One Environment= assignment, quoted when it holds spaces (systemd.exec(5), "Environment="). */
function environmentAssignment(name: string, value: string): string {
  const assignment = `${name}=${value}`;
  return /\s/.test(assignment) ? `"${assignment}"` : assignment;
}

export interface ShipUnitSettings {
  /** Absolute path of the config the service reads. */
  configPath: string;
  /** The command that starts mirror, e.g. `/usr/bin/mirror` (absolute). */
  mirrorCommand: string;
  user: string;
  group: string;
  /** The state paths in the config are relative to this (absolute). */
  workingDirectory: string;
}

/**
 * The shipper yields the CPU to nginx and the origin when they compete: shadow
 * traffic may lag (the log is its spool), the vendor's callbacks may not.
 * `CPUSchedulingPolicy=idle` (SCHED_IDLE): a waking process of the normal policy
 * preempts it at once, where a nice value only weighs the shares; measured on the
 * origin at saturation (docs/benchmarks.md). `CPUWeight=` orders the services'
 * cgroups (cgroup v2: the default weight is 100) and is the share the shipper keeps
 * on a host that is busy all the time. `Nice=` has no effect under SCHED_IDLE
 * (sched(7)) and stays for a drop-in that sets the policy back. The benchmark runs
 * the shipper the same way (bench/mirror-tax.ts).
 */
export const shipServiceNice = 10;
export const shipServiceSchedulingPolicy: 'idle' | 'other' = 'idle';
const shipServiceCpuWeight = 10;

export interface RenderedShipUnit {
  name: string;
  contents: string;
}

/** Unit file values are one line each: no newline can reach one, and specifiers (%) are escaped. */
function unitValue(value: string, what: string): string {
  if (/[\n\r\0]/.test(value)) throw new Error(`${what} holds a line break: expected one line`);
  return value.replace(/%/g, '%%');
}

/** ExecStart quoting: each argument in double quotes, with \ and " escaped (systemd.service(5), "Command lines"). */
function execArg(value: string): string {
  return /^[A-Za-z0-9_./:@=+-]+$/.test(value) ? value : `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

export function renderShipUnit(config: MirrorConfig, settings: ShipUnitSettings, template: string): RenderedShipUnit {
  for (const [key, value] of Object.entries({ configPath: settings.configPath, mirrorCommand: settings.mirrorCommand, workingDirectory: settings.workingDirectory })) {
    if (!isAbsolute(value)) throw new Error(`${key} ${value}: expected an absolute path`);
  }
  if (!/^[a-z_][a-z0-9_-]{0,31}$/.test(settings.user)) throw new Error(`--user ${JSON.stringify(settings.user)}: expected a system user name such as www-data`);
  if (!/^[a-z_][a-z0-9_-]{0,31}$/.test(settings.group)) throw new Error(`--group ${JSON.stringify(settings.group)}: expected a system group name such as adm`);
  const stateDir = (path: string) => dirname(resolve(settings.workingDirectory, path));
  const readWritePaths = [...new Set([stateDir(config.ship.checkpoint), stateDir(config.ship.ackLog)])];
  const name = `mirror-ship-${config.name}.service`;
  const view = {
    name: config.name,
    unitName: name,
    transportNote: config.mirror.transport === 'ship' ? 'mirror.transport: ship' : 'set mirror.transport: ship before enabling it',
    user: settings.user,
    group: settings.group,
    workingDirectory: unitValue(settings.workingDirectory, 'working directory'),
    execStart: unitValue([settings.mirrorCommand, 'ship', '--config', settings.configPath].map(execArg).join(' '), 'ExecStart'),
    schedulingPolicy: shipServiceSchedulingPolicy,
    nice: shipServiceNice,
    cpuWeight: shipServiceCpuWeight,
    // Long enough for the slowest attempt on the wire to get its answer.
    stopTimeout: `${Math.ceil(durationToMs(config.ship.requestTimeout) / 1000) + 5}s`,
    environment: Object.entries(shipEnvironment(config.ship.window)).map(([name, value]) => unitValue(environmentAssignment(name, value), name)),
    readOnlyPaths: [unitValue(dirname(config.parityLog.path), 'parityLog.path')],
    readWritePaths: readWritePaths.map((p) => unitValue(p, 'ship state path')),
  };
  const contents = Handlebars.compile(template, { noEscape: true, strict: true })(view);
  return { name, contents: `${contents.replace(/\n{3,}/g, '\n\n').trimEnd()}\n` };
}
