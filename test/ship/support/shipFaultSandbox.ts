/**
 * What the shipper's fault tests share: the full sandbox with `mirror.transport:
 * ship`, configs pointing the shipper at it (or at a faulty path in front of it),
 * `mirror ship` as a process of its own, and readers for the ack log, the parity
 * log and the queue. Everything started is registered with `cleanups`, which the
 * test file runs after each test, pass or fail.
 */
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, vi } from 'vitest';
import { request } from 'undici';
import { startFullSandbox, type FullSandbox, type FullSandboxOptions } from '../../../src/sandbox/fullSandbox.js';
import { waitFor } from '../../../src/os/childProcess.js';
import { freePort } from '../../../src/os/freePort.js';
import type { AckRecord } from '../../../src/ship/ackRecord.js';
import { runMirror } from '../../support/cli.js';
import { writeConfigFile } from '../../support/config.js';

export type Cleanups = (() => Promise<unknown>)[];

/**
 * A fault file's lifecycle, registered once at its top: sandbox AWS credentials for
 * the stand-in's SDK during each test, and after each, pass or fail, every cleanup
 * the test registered, last first.
 */
export function shipFaultLifecycle(): Cleanups {
  const cleanups: Cleanups = [];
  beforeEach(() => {
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'sandbox');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'sandbox');
  });
  afterEach(async () => {
    vi.unstubAllEnvs();
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  });
  return cleanups;
}

export interface ShipSandbox {
  s: FullSandbox;
  dir: string;
  ackPath: string;
  checkpointPath: string;
  /** Writes a config for the shipper: the gateway reached through `port`, ship settings merged in. */
  config(port: number, ship?: Record<string, unknown>): Promise<string>;
}

export async function shipSandbox(cleanups: Cleanups, window: number, options: FullSandboxOptions = {}): Promise<ShipSandbox> {
  const dir = await mkdtemp(join(tmpdir(), 'mirror-ship-faults-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const s = await startFullSandbox({ ...options, editConfig: (raw) => void (raw.mirror.transport = 'ship') });
  cleanups.push(s.stop);
  const ackPath = join(dir, 'state/ack.log');
  const checkpointPath = join(dir, 'state/checkpoint.json');
  let n = 0;
  return {
    s,
    dir,
    ackPath,
    checkpointPath,
    async config(port, ship = {}) {
      const tree = s.configTree();
      tree.apiGateway.port = port;
      tree.ship = { checkpoint: checkpointPath, ackLog: ackPath, listen: `127.0.0.1:${await freePort()}`, minBackoff: '20ms', maxBackoff: '300ms', window, ...ship };
      const configDir = join(dir, `c${n++}`);
      await mkdir(configDir);
      return writeConfigFile(tree, configDir);
    },
  };
}

export interface ShipSummaryJson {
  delivered: number;
  gaveUp: number;
  rejected: number;
  unfinishedAtStop: number;
  answeredBefore: number;
}

/** `mirror ship` as a process; SIGTERM to stop it, SIGKILL to kill it. */
export function startShipProcess(cleanups: Cleanups, config: string, parityLogGlob: string) {
  const child = runMirror(['ship', '--config', config, '--parity-log', parityLogGlob, '--json'], { timeout: 150_000 });
  cleanups.push(async () => {
    child.kill('SIGKILL');
    await child;
  });
  return {
    child,
    async stop(): Promise<ShipSummaryJson> {
      // Its signal handlers are in place once it serves metrics.
      await waitFor(async () => (await metricValue(config, /mirror_ship_attempts_total/).catch(() => NaN)) >= 0, { timeoutMs: 30_000, what: 'the shipper serving metrics' });
      child.kill('SIGTERM');
      const result = await child;
      expect(result.exitCode, result.stderr).toBe(0);
      return JSON.parse(result.stdout) as ShipSummaryJson;
    },
    async kill() {
      child.kill('SIGKILL');
      await child;
    },
  };
}

export async function ackRecords(path: string): Promise<AckRecord[]> {
  const text = await readFile(path, 'utf8').catch(() => '');
  return text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as AckRecord);
}

export async function deliveredIds(path: string): Promise<Set<string>> {
  return new Set((await ackRecords(path)).filter((a) => a.outcome === 'delivered').map((a) => a.request_id));
}

/** The request ids of the parity logs' lines, in the order nginx wrote them. */
export async function parityIds(s: FullSandbox, files: string[] = [s.stack.parityLogPath]): Promise<string[]> {
  const ids: string[] = [];
  for (const file of files) {
    const text = await readFile(file, 'utf8');
    for (const line of text.split('\n').filter(Boolean)) ids.push((JSON.parse(line) as { request_id: string }).request_id);
  }
  return ids;
}

/** Every message in the queue, drained: count per request id. */
export async function queueCounts(s: FullSandbox, expected: number): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  const take = (messages: { attributes: Record<string, string> }[]) => {
    for (const m of messages) {
      const id = m.attributes['mirror-request-id']!;
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    return messages.length;
  };
  take(await s.drain(expected, Math.max(20_000, expected * 4)));
  // Then the duplicates, until a long poll finds nothing more.
  while (take(await s.drain(1_000, 1_500)) > 0);
  return counts;
}

export async function metricValue(config: string, line: RegExp): Promise<number> {
  const text = await readFile(config, 'utf8');
  const listen = /listen: (\S+)/.exec(text)![1];
  const body = await (await request(`http://${listen}/metrics`)).body.text();
  const m = new RegExp(`^${line.source} (\\d+)$`, 'm').exec(body);
  return m ? Number(m[1]) : NaN;
}
