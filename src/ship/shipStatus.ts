/** Pure: the shipper's status line, for a terminal (redrawn) or a log (one per interval). */
import type { ShipStatus } from './shipper.js';

export function formatShipStatus(s: ShipStatus): string {
  const failed = s.rejected + s.gaveUp;
  return [
    `ship: delivered ${s.delivered}`,
    `failed ${failed}${failed > 0 ? ` (rejected ${s.rejected}, gave up ${s.gaveUp})` : ''}`,
    `not captured ${s.notCaptured}`,
    `in flight ${s.inFlight}`,
    s.probing ? 'API Gateway unreachable: probing' : `send limit ${s.sendLimit}`,
    `retries ${s.retries}`,
    `oldest ${(s.oldestInFlightMs / 1000).toFixed(1)}s`,
    `backlog ${formatBytes(s.backlogBytes)}`,
    `checkpoint ${(s.checkpointAgeMs / 1000).toFixed(1)}s ago`,
  ].join('  ');
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}
