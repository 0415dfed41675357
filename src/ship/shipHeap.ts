/**
 * Pure: the memory settings `mirror ship` runs with, the same whoever starts it: the
 * systemd unit sets them (src/ship/shipUnit.ts), and the CLI started by hand runs
 * itself again under them (src/os/reexec.ts) unless the heap flags were chosen.
 */

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

/** Whether node's heap sizes were chosen for this process already (NODE_OPTIONS or node's own arguments). */
function heapChosen(nodeOptions: string, execArgv: readonly string[]): boolean {
  return [nodeOptions, ...execArgv].some((flags) => /--max[-_](old|semi)[-_]space[-_]size/.test(flags));
}

/**
 * The environment to run the shipper again with so it has the unit's memory
 * settings, or undefined when it already does (the unit) or its heap flags were
 * chosen otherwise: those win. Other NODE_OPTIONS are kept, after the shipper's.
 */
export function shipReexecEnvironment(env: NodeJS.ProcessEnv, execArgv: readonly string[], window: number): NodeJS.ProcessEnv | undefined {
  if (heapChosen(env.NODE_OPTIONS ?? '', execArgv)) return undefined;
  const wanted = shipEnvironment(window);
  return {
    ...env,
    NODE_OPTIONS: [wanted.NODE_OPTIONS, env.NODE_OPTIONS ?? ''].join(' ').trim(),
    MALLOC_ARENA_MAX: env.MALLOC_ARENA_MAX ?? wanted.MALLOC_ARENA_MAX,
  };
}
