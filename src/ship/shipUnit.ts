/**
 * Pure: the systemd unit that runs `mirror ship` as a service (systemd.exec(5),
 * systemd.service(5)). It reads the parity logs and writes only its own state
 * (the checkpoint's and the ack log's directories); everything else is read-only.
 */
import Handlebars from 'handlebars';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { MirrorConfig } from '../config/types.js';
import { durationToMs } from '../config/nginxValues.js';

/**
 * The node flags the shipper runs with, for a window of `window` callbacks in flight
 * (the unit sets them through NODE_OPTIONS; the benchmark runs the shipper with
 * exactly these). Measured over a 1,000,000-line backlog (docs/benchmarks.md, "The
 * shipper's peak RSS"): the shipper makes garbage for every line, and at full speed
 * V8 lets its young generation grow to two 64 MiB semi-spaces and its old space to
 * ~70 MiB before a full collection, while what is live stays 20 to 30 MiB at a
 * window of 256. The old-space cap makes V8 collect sooner (48 MiB still let the
 * peak reach 145 MiB at 7,000 callbacks/s; 42 kept it at 130 to 134); it grows with the
 * window (~6 KiB live per callback in flight, measured at 10,000), so a large
 * window does not run out of heap.
 */
export function shipNodeOptions(window: number): string[] {
  return ['--max-semi-space-size=4', `--max-old-space-size=${40 + Math.ceil(window / 128)}`];
}

/**
 * The shipper's environment in the unit (the benchmark runs it with exactly this):
 * the node flags above, and glibc's malloc held to two arenas (mallopt(3),
 * M_ARENA_MAX; other C libraries ignore it). By default each thread that allocates
 * (libuv's pool reading the logs, V8's collector threads) may get an arena of its
 * own; two kept the peak 6 to 10 MiB lower at the same rate (123 to 126 MiB against
 * 129 to 136 MiB, docs/benchmarks.md).
 */
export function shipEnvironment(window: number): Record<string, string> {
  return { NODE_OPTIONS: shipNodeOptions(window).join(' '), MALLOC_ARENA_MAX: '2' };
}

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
 * traffic may lag (the log is its spool), the vendor's callbacks may not. `Nice=`
 * orders processes that share a cgroup; `CPUWeight=` orders the services' cgroups
 * (cgroup v2: the default weight is 100). The benchmark runs the shipper at the
 * same nice value (bench/mirror-tax.ts).
 */
export const shipServiceNice = 10;
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
    // Long enough for the slowest attempt on the wire to get its answer.
    nice: shipServiceNice,
    cpuWeight: shipServiceCpuWeight,
    stopTimeout: `${Math.ceil(durationToMs(config.ship.requestTimeout) / 1000) + 5}s`,
    environment: Object.entries(shipEnvironment(config.ship.window)).map(([name, value]) => unitValue(environmentAssignment(name, value), name)),
    readOnlyPaths: [unitValue(dirname(config.parityLog.path), 'parityLog.path')],
    readWritePaths: readWritePaths.map((p) => unitValue(p, 'ship state path')),
  };
  const contents = Handlebars.compile(template, { noEscape: true, strict: true })(view);
  return { name, contents: `${contents.replace(/\n{3,}/g, '\n\n').trimEnd()}\n` };
}
