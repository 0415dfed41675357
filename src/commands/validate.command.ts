/** `mirror validate`'s flags and output; the work is in ./validate.ts. */
import { configOption, defineCommand, jsonOption, option, phaseOption } from './define.js';
import type { ValidateOptions, ValidateResult } from './validate.js';

export const validateCommand = defineCommand<ValidateOptions, [], ValidateResult>({
  name: 'validate',
  description: 'render into a throwaway prefix, run the real nginx -t, and lint what nginx -t cannot see',
  options: [
    configOption(),
    phaseOption(),
    option('--nginx <path>', 'nginx binary (default: nginx on PATH or /usr/sbin/nginx)'),
    option('--keep', 'keep the throwaway prefix and print its path'),
    jsonOption(),
  ],
  async run(opts) {
    const { runValidate } = await import('./validate.js');
    return runValidate(opts);
  },
  async formatText(result) {
    const { formatValidateText } = await import('./validate.js');
    return formatValidateText(result);
  },
});
