/**
 * Pure: the shipper's checkpoint document. Each parity log is named by its file
 * identity (device and inode), not its name: after a rename rotation the same
 * inode is the old file under a new name, and a new file under the old name is
 * shipped from its start.
 */
export interface CheckpointFile {
  /** `dev:ino`. */
  id: string;
  /** The name it was last seen under (for people; the id decides). */
  path: string;
  /** Byte offset after the last line whose answer, and every answer before it, is final. */
  offset: number;
}

export interface ShipCheckpoint {
  v: 1;
  /** When it was written, ISO time. */
  time: string;
  files: CheckpointFile[];
}

export function checkpointText(files: readonly CheckpointFile[], now: Date): string {
  const checkpoint: ShipCheckpoint = { v: 1, time: now.toISOString(), files: [...files].sort((a, b) => a.id.localeCompare(b.id)) };
  return `${JSON.stringify(checkpoint)}\n`;
}

export type ParsedCheckpoint = { ok: true; checkpoint: ShipCheckpoint } | { ok: false; reason: string };

export function parseCheckpoint(text: string): ParsedCheckpoint {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'not JSON' };
  }
  const doc = value as Partial<ShipCheckpoint> | null;
  if (!doc || doc.v !== 1 || !Array.isArray(doc.files) || typeof doc.time !== 'string') return { ok: false, reason: 'expected {"v":1,"time":…,"files":[…]}' };
  for (const f of doc.files) {
    if (typeof f?.id !== 'string' || !/^\d+:\d+$/.test(f.id) || typeof f.path !== 'string' || !Number.isSafeInteger(f.offset) || f.offset < 0) {
      return { ok: false, reason: 'expected each file as {"id":"dev:ino","path":…,"offset":n}' };
    }
  }
  return { ok: true, checkpoint: doc as ShipCheckpoint };
}

/**
 * Where to start a file: its checkpointed offset, unless the file is now shorter
 * (truncated, or the inode was reused by a new file), then from its start.
 */
export function startOffset(checkpoint: ShipCheckpoint | undefined, id: string, size: number): number {
  const offset = checkpoint?.files.find((f) => f.id === id)?.offset ?? 0;
  return offset <= size ? offset : 0;
}
