/** `mirror init`'s flags and output; the work is in ./init.ts. */
import { defineCommand, jsonOption, option } from './define.js';
import type { InitOptions, InitResult } from './init.js';

export const initCommand = defineCommand<InitOptions, [], InitResult>({
  name: 'init',
  description: 'write a commented starter config for a vendor preset',
  options: [
    option('--vendor <vendor>', 'vendor preset', 'bizppurio'),
    option('--out <file>', 'where to write it', 'mirror.yaml'),
    option('--force', 'overwrite an existing file'),
    jsonOption(),
  ],
  async run(opts) {
    const { runInit } = await import('./init.js');
    return runInit(opts);
  },
  formatText: (result) => `wrote ${result.path} (vendor ${result.vendor}); edit it, then run: mirror validate`,
});
