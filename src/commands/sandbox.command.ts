/** `mirror sandbox up|down|status`'s flags and output; the work is in ./sandbox.ts. */
import { Option } from 'commander';
import { phases } from '../config/phases.js';
import { configOption, defineCommand, defineGroup, jsonOption, option } from './define.js';
import type { SandboxOptions, SandboxResult } from './sandbox.js';

type SandboxFlags = Omit<SandboxOptions, 'sample'> & { sample?: string };

const actions = [
  { name: 'up', description: 'start the sandbox in the background and print its endpoints' },
  { name: 'down', description: 'stop exactly what up started' },
  { name: 'status', description: 'report each part, and any that crashed' },
] as const;

function sandboxAction(action: (typeof actions)[number]) {
  return defineCommand<SandboxFlags, [], SandboxResult>({
    ...action,
    options: [
      option('--dir <dir>', 'state directory', '.mirror-sandbox'),
      jsonOption(),
      ...(action.name === 'up'
        ? [
            new Option('--phase <phase>', 'phase nginx runs').choices(phases).default('shadow'),
            option('--sample <percent>', "percent mirrored (default: the config's mirror.sample)"),
            configOption('your mirror.yaml: its names run in the sandbox, only ports, resolver, queue endpoint and certificates become local'),
            option('--consumer', 'run a consumer that receives and deletes, as the real one does (verify.liveConsumer: true in the written config)'),
          ]
        : []),
    ],
    async run({ sample, ...opts }) {
      const commands = await import('./sandbox.js');
      const run = action.name === 'up' ? commands.sandboxUp : action.name === 'down' ? commands.sandboxDown : commands.sandboxStatus;
      return run({ ...opts, ...(sample !== undefined ? { sample: Number(sample) } : {}) });
    },
    async formatText(result) {
      const { formatSandboxText } = await import('./sandbox.js');
      return formatSandboxText(result);
    },
  });
}

export const sandboxCommand = defineGroup(
  'sandbox',
  'run every local part on 127.0.0.1: nginx, dnsmasq, the gateway stand-in, fauxqs, an origin',
  actions.map(sandboxAction),
);
