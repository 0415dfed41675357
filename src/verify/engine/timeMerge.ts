/**
 * Reads several sources side by side in time order: always from the source whose
 * next item is oldest, a run of items at a time, and reports a watermark between
 * runs so the caller can judge what no unread item can change any more. Pure
 * scheduling: the sources are handed in (files, or arrays in tests).
 *
 * Sources need not be sorted. The watermark is the oldest of the sources'
 * frontiers (the newest time each unfinished source has handed out) minus
 * `marginMs`: items of one source out of order by up to the margin are read
 * before the watermark passes them. More disorder is not an error here; the
 * caller must notice what it judged too early (the ledger's orderCheck) and fall
 * back.
 */
export interface TimedSource<T> {
  /** The next items in source order (may be empty); undefined at the end. */
  next(): Promise<readonly T[] | undefined>;
  timeOf(item: T): number;
  deliver(item: T): void;
}

export interface MergeOptions {
  marginMs: number;
  /** Items delivered between two calls of onWatermark. */
  every: number;
  /** Called with the watermark every `every` items; return false to stop reading. */
  onWatermark(watermarkMs: number): boolean;
}

interface Cursor {
  source: TimedSource<unknown>;
  items: readonly unknown[];
  at: number;
  frontier: number;
  done: boolean;
}

/** Returns true when every source was read to its end, false when onWatermark stopped it. */
export async function mergeByTime(sources: readonly TimedSource<never>[], options: MergeOptions): Promise<boolean> {
  const cursors: Cursor[] = sources.map((source) => ({ source: source as TimedSource<unknown>, items: [], at: 0, frontier: Number.NEGATIVE_INFINITY, done: false }));
  const live: Cursor[] = [];
  for (const cursor of cursors) if (await fill(cursor)) live.push(cursor);
  let sinceWatermark = 0;
  while (live.length > 0) {
    // The source with the oldest next item, and the next item time of the others.
    let best = 0;
    let bestTime = timeAt(live[0]!);
    let runUntil = Number.POSITIVE_INFINITY;
    for (let i = 1; i < live.length; i++) {
      const t = timeAt(live[i]!);
      if (t < bestTime) {
        runUntil = bestTime;
        bestTime = t;
        best = i;
      } else if (t < runUntil) runUntil = t;
    }
    const cursor = live[best]!;
    const { source, items } = cursor;
    // At least one item, then while none is newer than the other sources' next.
    let at = cursor.at;
    let frontier = cursor.frontier;
    do {
      const item = items[at++];
      const t = source.timeOf(item as never);
      if (t > frontier) frontier = t;
      source.deliver(item as never);
      sinceWatermark++;
    } while (at < items.length && source.timeOf(items[at] as never) <= runUntil && sinceWatermark < options.every);
    cursor.at = at;
    cursor.frontier = frontier;
    if (at >= items.length && !(await fill(cursor))) live.splice(best, 1);
    if (sinceWatermark >= options.every) {
      sinceWatermark = 0;
      if (live.length === 0) break;
      let oldest = Number.POSITIVE_INFINITY;
      for (const c of live) if (c.frontier < oldest) oldest = c.frontier;
      if (!options.onWatermark(oldest - options.marginMs)) return false;
    }
  }
  return true;
}

/** Loads the cursor's next non-empty batch; false at the end of its source. */
async function fill(cursor: Cursor): Promise<boolean> {
  for (;;) {
    const items = await cursor.source.next();
    if (!items) {
      cursor.done = true;
      return false;
    }
    if (items.length > 0) {
      cursor.items = items;
      cursor.at = 0;
      return true;
    }
  }
}

function timeAt(cursor: Cursor): number {
  return cursor.source.timeOf(cursor.items[cursor.at] as never);
}
