/** `mirror verify [--watch]`'s flags and output; the work is in ./verify.ts (one shot) and ./watch.ts (--watch). */
import { Option } from 'commander';
import { configOption, defineCommand, jsonOption, option } from './define.js';
import type { VerifyOptions, VerifyResult } from './verify.js';
import type { WatchOptions, WatchResult } from './watch.js';

type VerifyFlags = VerifyOptions & Pick<WatchOptions, 'listen'> & { watch?: boolean; cutoverState?: string };

/** One shot or --watch, and its result: the JSON output is the result alone. */
type VerifyOutcome = { exitCode: number; watch: false; result: VerifyResult } | { exitCode: number; watch: true; result: WatchResult };

export const verifyCommand = defineCommand<VerifyFlags, [], VerifyOutcome>({
  name: 'verify',
  description: 'the parity comparator: every callback nginx logged against the messages in SQS; a report and a gate',
  options: [
    configOption(),
    option('--parity-log <file...>', 'parity log files or globs (several hosts, rotated, .gz), - for stdin (default: parityLog.path)'),
    option('--sqs-archive <file...>', 'read archived messages from earlier consume runs instead of SQS'),
    new Option('--mode <mode>', "peek: look, never delete; consume: archive, then delete; ack: judge from API Gateway's answers, never touch the queue (default: ack when verify.liveConsumer, else peek)").choices(['peek', 'consume', 'ack']),
    option('--ack-log <file...>', "with --mode ack: mirror ship's ack logs (beside the mirror answers log and ship.ackLog)"),
    option('--archive <file>', 'owner-only archive for --mode consume'),
    option('--since <time>', 'window start: ISO time or a duration back from now (30m)'),
    option('--until <time>', 'window end: ISO time or a duration back from now'),
    option('--grace <duration>', 'unmatched callbacks older than this are missing (default: verify.grace)'),
    option('--match <how>', 'request-id (default), body-hash, or field:MSGID,field:RESULT'),
    new Option('--gate <ratio>', 'minimum parity to pass (default: verify.gate)').argParser(Number),
    new Option('--min-sample <n>', 'callbacks judged before a pass is possible (default: verify.minSample)').argParser(Number),
    new Option('--receivers <n>', 'concurrent long-polling receivers').argParser(Number),
    option('--allow-redrive-receives', "peek although the queue's redrive policy counts each receive toward its dead-letter queue"),
    option('--show-bodies', 'print the bodies of mismatches (personal fields masked)'),
    option('--no-redact', 'with --show-bodies: do not mask personal fields'),
    jsonOption('print the whole report as one JSON document'),
    option('--watch', 'run continuously: follow the logs, long-poll SQS, serve metrics'),
    option('--listen <host:port>', 'with --watch: where /metrics is served', '127.0.0.1:9464'),
    option('--cutover-state <file>', 'with --watch: the phase gauge follows this cutover state file (e.g. .mirror/state.json)'),
  ],
  // --watch runs until Ctrl-C (or SIGTERM), then reports; a one-shot verify keeps Node's default (the signal ends it).
  interruptible: (opts) => Boolean(opts.watch),
  async run(opts, _args, { signal }) {
    if (opts.watch) {
      const { runWatch } = await import('./watch.js');
      const result = await runWatch({ ...opts, signal });
      return { exitCode: result.exitCode, watch: true, result };
    }
    const { runVerify } = await import('./verify.js');
    const result = await runVerify(opts);
    return { exitCode: result.exitCode, watch: false, result };
  },
  async formatText(outcome) {
    return outcome.watch ? (await import('./watch.js')).formatWatchText(outcome.result) : (await import('./verify.js')).formatVerifyText(outcome.result);
  },
  formatJson: (outcome) => JSON.stringify(outcome.result, null, 2),
});
