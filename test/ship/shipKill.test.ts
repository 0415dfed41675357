/**
 * The shipper killed with SIGKILL at seeded random points over 10,000 callbacks
 * and restarted each time, through real nginx writing the parity log, the
 * shipper as a process of its own (the CLI), real TLS with the test CA, the
 * gateway stand-in and fauxqs: nothing lost, nothing given up, the checkpoint
 * whole after every kill and never past an unrecorded answer, and every extra
 * copy in SQS a callback that was on the wire, unrecorded, at a kill.
 * `MIRROR_KILL_SEED=N` replays another kill schedule.
 */
import { readdir, readFile, watch } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sendCallbacks, trickyCallback } from '../../src/sandbox/callbacks.js';
import { bizppurio } from '../../src/vendors/bizppurio.js';
import { waitFor } from '../../src/os/childProcess.js';
import { parseCheckpoint } from '../../src/ship/shipCheckpoint.js';
import { seededRandom } from '../support/seededRandom.js';
import { AckLogFollower } from './support/ackLogFollower.js';
import { parityIds, queueCounts, shipSandbox, startShipProcess, shipFaultLifecycle } from './support/shipFaultSandbox.js';

const cleanups = shipFaultLifecycle();

const window = 32;
const total = 10_000;
const kills = 6;
/** Kills that wait, once their point is reached, for the next checkpoint write to begin. */
const killsAtCheckpoint = 2;

interface KillSnapshot {
  /** Delivered ids in the ack log once the process was dead (what a restart reads). */
  delivered: Set<string>;
  /** The checkpoint's offset into the parity log. */
  offset: number;
  /** Whether the checkpoint's temp file was left behind: the kill landed inside the atomic write. */
  midCheckpointWrite: boolean;
}

/** SIGKILL as soon as the shipper starts writing its checkpoint (the temp file appears or is renamed). */
async function killAtNextCheckpointWrite(checkpointPath: string, kill: () => void): Promise<void> {
  const temp = new RegExp(`^\\.${basename(checkpointPath).replace(/\./g, '\\.')}\\..+\\.tmp$`);
  const stop = new AbortController();
  // Written every 200 ms while lines are answered, and every 5 s regardless.
  const timer = setTimeout(() => stop.abort(), 15_000);
  try {
    for await (const event of watch(dirname(checkpointPath), { signal: stop.signal })) {
      if (event.filename && temp.test(event.filename)) {
        kill();
        return;
      }
    }
  } catch (error) {
    if ((error as Error).name !== 'AbortError') throw error;
    throw new Error('no checkpoint write within 15 s', { cause: error });
  } finally {
    clearTimeout(timer);
    stop.abort();
  }
}

describe('mirror ship killed', () => {
  it(
    `SIGKILL at ${kills} seeded random points over ${total} callbacks, restarted each time: every callback in SQS, none given up, extra copies only of what was in flight at a kill`,
    // 42-57 s alone, 47-110 s beside the other fault tests, on a 2-core machine at a load average of 4-8.
    { timeout: 300_000 },
    async () => {
      const seed = Number(process.env.MIRROR_KILL_SEED ?? 9);
      const random = seededRandom(seed);
      const { s, config, ackPath, checkpointPath } = await shipSandbox(cleanups, window);
      const cfg = await config(s.gatewayPort);
      const glob = `${s.stack.parityLogPath}*`;
      const acks = new AckLogFollower(ackPath);
      // One kill point in each of `kills` equal slices of the middle 90%: spread over the run.
      const slice = (total * 0.9) / kills;
      const points = Array.from({ length: kills }, (_, k) => Math.floor(total * 0.05 + k * slice + random() * slice));
      const checkpointKills = new Set<number>();
      while (checkpointKills.size < killsAtCheckpoint) checkpointKills.add(Math.floor(random() * kills));

      // The vendor keeps sending while the shipper is killed and restarted: the log grows under it.
      const sending = sendCallbacks(
        s.stack.callbackUrl,
        Array.from({ length: total }, (_, i) => trickyCallback(bizppurio, i)),
        { connections: 8 },
      );
      const snapshots: KillSnapshot[] = [];
      const tempFilesSeen = new Set<string>();
      for (let k = 0; k < kills; k++) {
        const ship = startShipProcess(cleanups, cfg, glob);
        await waitFor(async () => (await acks.poll()).delivered.size >= points[k]!, {
          timeoutMs: 120_000,
          what: `${points[k]} delivered before kill ${k + 1} (seed ${seed})`,
          child: ship.child,
        });
        if (checkpointKills.has(k)) await killAtNextCheckpointWrite(checkpointPath, () => ship.child.kill('SIGKILL'));
        await ship.kill();
        expect((await ship.child).signal).toBe('SIGKILL');
        await acks.poll();
        const checkpoint = parseCheckpoint(await readFile(checkpointPath, 'utf8'));
        // Whole or nothing: a kill inside the write leaves the previous checkpoint.
        expect(checkpoint.ok, `checkpoint after kill ${k + 1}`).toBe(true);
        const files = checkpoint.ok ? checkpoint.checkpoint.files : [];
        expect(files).toHaveLength(1);
        const tempFiles = (await readdir(dirname(checkpointPath))).filter((f) => f.endsWith('.tmp') && !tempFilesSeen.has(f));
        for (const f of tempFiles) tempFilesSeen.add(f);
        snapshots.push({ delivered: new Set(acks.delivered), offset: files[0]!.offset, midCheckpointWrite: tempFiles.length > 0 });
      }

      const sent = await sending;
      expect(sent.filter((r) => r.status !== 200), 'the origin answered every callback').toEqual([]);
      await s.stack.waitForParityLines(total);
      const last = startShipProcess(cleanups, cfg, glob);
      await waitFor(async () => (await acks.poll()).delivered.size >= total, { timeoutMs: 120_000, what: `all ${total} delivered after the kills`, child: last.child });
      const summary = await last.stop();
      await acks.poll();
      expect(summary).toMatchObject({ gaveUp: 0, rejected: 0 });
      expect(acks.records.filter((a) => a.outcome !== 'delivered'), 'answers other than delivered').toEqual([]);

      const ids = await parityIds(s);
      expect(ids).toHaveLength(total);
      const position = new Map(ids.map((id, i) => [id, i]));
      const parity = await readFile(s.stack.parityLogPath);
      for (const [k, snap] of snapshots.entries()) {
        // The checkpoint never moves past a callback without its answer in the ack log.
        expect(snap.offset === 0 || parity[snap.offset - 1] === 0x0a, `checkpoint ${k + 1} at a line end`).toBe(true);
        const committed = parity.subarray(0, snap.offset).toString('utf8').split('\n').filter(Boolean);
        const unanswered = committed.map((l) => (JSON.parse(l) as { request_id: string }).request_id).filter((id) => !snap.delivered.has(id));
        expect(unanswered, `committed by checkpoint ${k + 1} without an answer`).toEqual([]);
      }

      const counts = await queueCounts(s, total);
      expect(ids.filter((id) => !counts.has(id)), 'missing from SQS').toEqual([]);
      expect([...counts.keys()].filter((id) => !position.has(id)), 'in SQS but never logged').toEqual([]);

      // What could have been sent without a recorded answer at kill k: the shipper
      // takes lines in log order and reads no further than 32 x window lines past
      // its checkpoint, which never passes the furthest recorded answer (docs/ship.md,
      // "Backpressure"), and those callbacks are not among the recorded ones. A
      // callback sent again after a kill was unrecorded at that kill; each copy
      // beyond the first needs a kill of its own.
      const reach = 33 * window;
      const furthestAt = snapshots.map((snap) => Math.max(-1, ...[...snap.delivered].map((id) => position.get(id)!)));
      const unrecordedAt = snapshots.map((snap, k) => new Set(ids.slice(0, furthestAt[k]! + 1 + reach).filter((id) => !snap.delivered.has(id))));
      const extraCopies = [...counts.entries()].filter(([, n]) => n > 1);
      const unexplained = extraCopies.filter(([id, n]) => n - 1 > unrecordedAt.filter((set) => set.has(id)).length);
      expect(unexplained, 'extra copies of callbacks not sent and unrecorded at any kill').toEqual([]);
      // By the kill each extra copy followed: at most the window, which holds the
      // callbacks on the wire, waiting to retry, and answered but with their ack line
      // not yet written (src/ship/shipper.ts). Before answers waited in the window for
      // their write, one kill measured 44 copies with a window of 32. Each copy beyond
      // the first needs a kill of its own, so a callback sent n times is charged one
      // copy at each of the last n - 1 kills it was unrecorded at (charging all of
      // them to the last one counted a copy of an earlier kill against a later one).
      const perKill = snapshots.map(() => 0);
      const pastFurthest = snapshots.map(() => 0);
      for (const [id, n] of extraCopies) {
        const kills = unrecordedAt.flatMap((set, k) => (set.has(id) ? [k] : [])).slice(-(n - 1));
        for (const k of kills) {
          perKill[k]! += 1;
          pastFurthest[k] = Math.max(pastFurthest[k]!, position.get(id)! - furthestAt[k]!);
        }
      }
      const copiesOf = (m: number) => extraCopies.filter(([, n]) => n === m).length;
      for (const [k, copies] of perKill.entries()) {
        expect(copies, `extra copies from kill ${k + 1} (seed ${seed}; callbacks in SQS twice ${copiesOf(2)}, three times ${copiesOf(3)})`).toBeLessThanOrEqual(window);
      }
      const duplicates = perKill.reduce((a, b) => a + b, 0);
      console.info(
        `ship-kill seed ${seed} (MIRROR_KILL_SEED replays it): killed at ${points.join(', ')} delivered; ` +
          `${snapshots.filter((x) => x.midCheckpointWrite).length} of ${killsAtCheckpoint} checkpoint-timed kills inside the write; ` +
          `${duplicates} extra copies in SQS (by kill ${perKill.join(', ')}; most copies of one callback ${Math.max(1, ...counts.values())}; at most ${pastFurthest.join(', ')} lines past the furthest recorded answer; window ${window}); the last restart skipped ${summary.answeredBefore} lines already answered`,
      );
    },
  );
});
