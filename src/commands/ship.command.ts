/** `mirror ship`'s flags and output; the work is in ./ship.ts. */
import { configOption, defineCommand, jsonOption, option } from './define.js';
import type { ShipOptions, ShipResult } from './ship.js';

type ShipFlags = Pick<ShipOptions, 'config' | 'parityLog' | 'listen'>;

export const shipCommand = defineCommand<ShipFlags, [], ShipResult>({
  name: 'ship',
  description: 'mirror.transport ship: follow the parity logs and send each shadow callback to API Gateway, at least once (runs until SIGTERM)',
  options: [
    configOption(),
    option('--parity-log <file...>', 'parity logs or globs to follow, rotated names too (default: parityLog.path)'),
    option('--listen <host:port>', 'where /metrics is served (default: ship.listen)'),
    jsonOption('print the summary at exit as JSON'),
  ],
  // Runs until SIGTERM or Ctrl-C: in-flight sends finish and the checkpoint is written.
  interruptible: true,
  async run(opts, _args, { signal }) {
    const { runShip } = await import('./ship.js');
    const { shipReexecEnvironment } = await import('../ship/shipHeap.js');
    const { reexecWith } = await import('../os/reexec.js');
    // Started by hand, it runs itself again under the memory settings its unit
    // sets (src/ship/shipHeap.ts): V8's defaults let the peak RSS reach twice as much.
    const beforeStart = (config: { ship: { window: number } }) => {
      const env = shipReexecEnvironment(process.env, process.execArgv, config.ship.window);
      if (env && !reexecWith(env)) {
        process.stderr.write(`mirror ship: Node ${process.version} cannot re-execute itself (process.execve needs 22.15 or later); running with V8's default heap sizes, which use more memory (docs/ship.md)\n`);
      }
    };
    return runShip({ ...opts, signal, beforeStart });
  },
  async formatText(result) {
    const { formatShipText } = await import('./ship.js');
    return formatShipText(result);
  },
});
