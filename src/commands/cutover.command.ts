/** `mirror cutover plan|status|advance|rollback`'s flags and output; the work is in ./cutover.ts. */
import { Option } from 'commander';
import { phases } from '../config/phases.js';
import { configOption, defineCommand, defineGroup, jsonOption, option } from './define.js';
import type {
  CutoverAdvanceOptions,
  CutoverMoveResult,
  CutoverPlanOptions,
  CutoverPlanResult,
  CutoverStatusOptions,
  CutoverStatusResult,
} from './cutover.js';

/** The shadow gate's probe flags; `--no-probe` sets `probe` false. */
interface ProbeFlags {
  probe?: boolean;
  probeConnectTo?: string;
  probeCa?: string;
}

/** The shadow gate's probe (mirror probe's), unless --no-probe. */
async function shadowProbe({ probe, probeConnectTo, probeCa }: ProbeFlags): Promise<Pick<CutoverAdvanceOptions, 'probe'>> {
  if (!probe) return {};
  const { mirrorProbe } = await import('../cutover/gates.js');
  return { probe: mirrorProbe({ ...(probeConnectTo ? { connectTo: probeConnectTo } : {}), ...(probeCa ? { ca: probeCa } : {}) }) };
}

const stateOption = () => option('--state <file>', 'cutover state file (default: cutover.stateFile, .mirror/state.json)');
const soakOption = () => option('--soak <duration>', 'verify window back from now (default: since the current phase was entered)');
const parityLogOption = () => option('--parity-log <file...>', 'parity logs for the gate (default: parityLog.path)');
const probeOptions = () => [
  option('--no-probe', 'shadow gate: do not send probes (the gate is then inconclusive)'),
  option('--probe-connect-to <host:port>', 'shadow gate: probes connect here instead of resolving the API Gateway host'),
  option('--probe-ca <file>', "shadow gate: CA bundle for API Gateway's certificate (default: apiGateway.trustedCertificate)"),
];

const plan = defineCommand<CutoverPlanOptions, [], CutoverPlanResult>({
  name: 'plan',
  description: 'each phase: what traffic does, the nginx diff from the phase before, the gate to enter it',
  options: [configOption(), stateOption(), jsonOption('print the plan as JSON')],
  async run(opts) {
    const { runCutoverPlan } = await import('./cutover.js');
    return runCutoverPlan(opts);
  },
  async formatText(result) {
    return (await import('./cutover.js')).formatCutoverPlanText(result);
  },
});

const status = defineCommand<Omit<CutoverStatusOptions, 'probe'> & ProbeFlags, [], CutoverStatusResult>({
  name: 'status',
  description: "the current phase, since when, and the live gate into the next (exit: that gate's verdict)",
  options: [
    configOption(),
    stateOption(),
    option('--no-gate', "do not run the next phase's gate"),
    ...probeOptions(),
    soakOption(),
    parityLogOption(),
    option('--nginx <path>', 'nginx binary for the validate step'),
    jsonOption('print the status as JSON'),
  ],
  async run({ probe, probeConnectTo, probeCa, ...rest }) {
    const { runCutoverStatus } = await import('./cutover.js');
    return runCutoverStatus({ ...rest, ...(await shadowProbe({ probe, probeConnectTo, probeCa })) });
  },
  async formatText(result) {
    return (await import('./cutover.js')).formatCutoverStatusText(result);
  },
});

type MoveFlags = Omit<CutoverAdvanceOptions, 'probe'> & ProbeFlags;

function move(direction: 'advance' | 'rollback') {
  return defineCommand<MoveFlags, [], CutoverMoveResult>({
    name: direction,
    description:
      direction === 'advance'
        ? "gate, render, nginx -t, back up and write the next phase's include files; --reload and confirm it took"
        : 'back to the previous phase the same way, gate-free',
    options: [
      configOption(),
      stateOption(),
      new Option('--to <phase>', direction === 'advance' ? 'a later phase (skipping needs --force --reason)' : 'an earlier phase').choices(phases),
      option('--dry-run', 'print the gate result and the diff; change nothing'),
      option('--nginx-dir <dir>', 'where nginx includes the files from (default: cutover.nginxDir, mirror-nginx)'),
      option('--nginx <path>', 'nginx binary (default: nginx on PATH or /usr/sbin/nginx)'),
      option('--test-command <cmd>', 'test the live config after writing (default with --reload: nginx -t)'),
      option('--reload', 'reload nginx and confirm the new config is active; restore the backup if not'),
      option('--reload-command <cmd>', 'with --reload (default: nginx -s reload)'),
      option('--pid-file <file>', "with --reload: the master's pid file", '/run/nginx.pid'),
      option('--error-log <file>', "with --reload: nginx's main error log", '/var/log/nginx/error.log'),
      option('--reload-timeout <duration>', 'with --reload: how long to wait for the new workers', '15s'),
      jsonOption(),
      ...(direction === 'advance'
        ? [
            option('--force', 'go past a failed/inconclusive gate or skip phases (needs --reason; recorded)'),
            option('--reason <text>', 'why, recorded in the state with your user name'),
            soakOption(),
            parityLogOption(),
            ...probeOptions(),
          ]
        : []),
    ],
    async run(opts) {
      const commands = await import('./cutover.js');
      // --pid-file/--error-log defaults only matter with --reload; drop them otherwise.
      const { pidFile, errorLog, reloadTimeout, probe, probeConnectTo, probeCa, ...rest } = opts;
      const live = opts.reload ? { pidFile, errorLog, reloadTimeout } : {};
      return direction === 'advance'
        ? commands.runCutoverAdvance({ ...rest, ...live, ...(await shadowProbe({ probe, probeConnectTo, probeCa })) })
        : commands.runCutoverRollback({ ...rest, ...live });
    },
    async formatText(result) {
      return (await import('./cutover.js')).formatCutoverMoveText(result);
    },
  });
}

export const cutoverCommand = defineGroup('cutover', 'plan, show, advance and roll back the phases; each advance gated by parity', [
  plan,
  status,
  move('advance'),
  move('rollback'),
]);
