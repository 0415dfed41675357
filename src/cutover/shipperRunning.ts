/**
 * With `mirror.transport: ship`, nginx sends nothing to API Gateway in the shadow
 * phases: `mirror ship` does. The cutover starts no process itself; it refuses a
 * shadow phase while the shipper is not running, which it reads from the
 * checkpoint's time (the shipper rewrites it every few seconds, moving or idle).
 */
import type { MirrorConfig } from '../config/types.js';
import type { Phase } from '../config/phases.js';
import { durationToMs } from '../config/nginxValues.js';
import { readCheckpoint } from '../ship/shipFiles.js';
import type { ShipCheckpoint } from '../ship/shipCheckpoint.js';

export type ShipperCheck = { needed: false } | { needed: true; ok: true; ageMs: number } | { needed: true; ok: false; problem: string };

const shadowPhases: readonly Phase[] = ['shadow', 'shadow-domain'];

/** Pure: whether the checkpoint says the shipper is running, and if not why and what to do. */
export function judgeShipperCheckpoint(config: MirrorConfig, to: Phase, checkpoint: ShipCheckpoint | undefined | { unreadable: string }, now: Date): ShipperCheck {
  if (config.mirror.transport !== 'ship' || !shadowPhases.includes(to)) return { needed: false };
  const start = `start the shipper first: \`mirror ship -c <this config>\` in the same working directory (ship.checkpoint is relative to it), or as a service: \`mirror render ship-unit\`, then systemctl enable --now mirror-ship-${config.name}.service`;
  const path = config.ship.checkpoint;
  if (checkpoint === undefined) {
    return { needed: true, ok: false, problem: `mirror.transport is ship, but the shipper's checkpoint ${path} does not exist: the shipper has not run, and nothing would reach API Gateway in ${to}; ${start}` };
  }
  if ('unreadable' in checkpoint) {
    return { needed: true, ok: false, problem: `mirror.transport is ship, but the shipper's checkpoint cannot be read: ${checkpoint.unreadable}` };
  }
  const bound = durationToMs(config.ship.maxCheckpointAge);
  const written = Date.parse(checkpoint.time);
  const ageMs = now.getTime() - written;
  if (!Number.isFinite(written) || ageMs > bound) {
    return {
      needed: true,
      ok: false,
      problem: `mirror.transport is ship, but the shipper's checkpoint ${path} was written ${Number.isFinite(written) ? `${Math.round(ageMs / 1000)} s ago (${checkpoint.time})` : 'at an unknown time'}, older than ship.maxCheckpointAge ${config.ship.maxCheckpointAge}: the shipper is not running, and nothing would reach API Gateway in ${to}; ${start}`,
    };
  }
  return { needed: true, ok: true, ageMs: Math.max(0, ageMs) };
}

/** Reads the checkpoint named by the config and judges it. */
export async function checkShipperRunning(config: MirrorConfig, to: Phase, now: Date): Promise<ShipperCheck> {
  if (config.mirror.transport !== 'ship' || !shadowPhases.includes(to)) return { needed: false };
  let checkpoint: ShipCheckpoint | undefined | { unreadable: string };
  try {
    checkpoint = await readCheckpoint(config.ship.checkpoint);
  } catch (error) {
    checkpoint = { unreadable: (error as Error).message };
  }
  return judgeShipperCheckpoint(config, to, checkpoint, now);
}
