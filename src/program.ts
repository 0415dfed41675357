/**
 * Wires commander to the command functions. Nothing else: each action imports its
 * command lazily (so `mirror --help` loads no AWS SDK), calls it, and hands the
 * result to `emit`. Exit codes come from results and typed errors, in src/cli.ts.
 */
import { Command, Option } from 'commander';
import { phases } from './config/phases.js';

export interface CommandOutput {
  exitCode: number;
  /** What goes to stdout: one JSON document with --json, text otherwise. */
  stdout: string;
}

type Emit = (output: CommandOutput) => void;

const phaseOption = () => new Option('--phase <phase>', 'phase to render (default: the config\'s phase)').choices(phases);
const configOption = () => new Option('-c, --config <file>', 'config file').default('mirror.yaml');

/** The shadow gate's probe flags, as `mirror probe` takes them. */
function probeOptions(connectTo: string | undefined, ca: string | undefined): { connectTo?: string; ca?: string } {
  return { ...(connectTo ? { connectTo } : {}), ...(ca ? { ca } : {}) };
}

function json(value: unknown): string {
  return JSON.stringify(value, null, 2);
}

export function buildProgram(emit: Emit): Command {
  const program = new Command('mirror')
    .description('Move webhook callback intake from nginx to Amazon API Gateway + SQS without losing a message.')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    // Set before any subcommand exists so each inherits it: usage errors reach
    // src/cli.ts as CommanderError (exit 2), not as commander's own exit 1.
    .exitOverride();

  program
    .command('init')
    .description('write a commented starter config for a vendor preset')
    .option('--vendor <vendor>', 'vendor preset', 'bizppurio')
    .option('--out <file>', 'where to write it', 'mirror.yaml')
    .option('--force', 'overwrite an existing file')
    .option('--json', 'print the result as JSON')
    .action(async (opts) => {
      const { runInit } = await import('./commands/init.js');
      const result = await runInit(opts);
      emit({ exitCode: result.exitCode, stdout: opts.json ? json(result) : `wrote ${result.path} (vendor ${result.vendor}); edit it, then run: mirror validate` });
    });

  program
    .command('render')
    .description('render the nginx include files for a phase (default), the API Gateway side (apigw), or the Grafana dashboard')
    .argument('[what]', 'nginx (default), apigw, dashboard or ship-unit')
    .addOption(configOption())
    .addOption(phaseOption())
    .addOption(new Option('--format <format>', 'apigw: cloudformation (default) or openapi').choices(['cloudformation', 'openapi']))
    .option('--out <path>', 'nginx: directory (default mirror-nginx); apigw: directory (default mirror-apigw); dashboard: file (default mirror-dashboard.json)')
    .option('--stdout', 'print instead of writing')
    .option('--user <name>', 'ship-unit: the user the shipper runs as, one that reads nginx\'s logs (default www-data)')
    .option('--group <name>', 'ship-unit: its group (default adm)')
    .option('--mirror-command <path>', 'ship-unit: absolute path of mirror (default /usr/local/bin/mirror)')
    .option('--json', 'print the result as JSON')
    .action(async (what: string | undefined, opts) => {
      const target = what ?? 'nginx';
      if (target === 'apigw') {
        const { runRenderApigw, formatRenderApigwText } = await import('./commands/renderApigw.js');
        const result = await runRenderApigw({ config: opts.config, format: opts.format, out: opts.out, stdout: opts.stdout });
        // With --stdout, stdout carries only the document: warnings go to stderr.
        if (opts.stdout) for (const w of result.warnings) process.stderr.write(`warning: ${w.path}: ${w.message}\n`);
        emit({ exitCode: result.exitCode, stdout: opts.json ? json(result) : formatRenderApigwText(result) });
        return;
      }
      if (target === 'dashboard') {
        const { runRenderDashboard, formatRenderDashboardText } = await import('./commands/renderDashboard.js');
        const result = await runRenderDashboard({ out: opts.out, stdout: opts.stdout });
        emit({ exitCode: result.exitCode, stdout: opts.json ? json(result) : formatRenderDashboardText(result) });
        return;
      }
      if (target === 'ship-unit') {
        const { runRenderShipUnit, formatRenderShipUnitText } = await import('./commands/ship.js');
        const result = await runRenderShipUnit({ config: opts.config, out: opts.out, stdout: opts.stdout, user: opts.user, group: opts.group, mirrorCommand: opts.mirrorCommand });
        emit({ exitCode: result.exitCode, stdout: opts.json ? json(result) : formatRenderShipUnitText(result) });
        return;
      }
      if (target !== 'nginx') {
        const { UsageError } = await import('./errors.js');
        throw new UsageError(`render ${target}: expected nginx, apigw, dashboard or ship-unit`);
      }
      if (opts.format) {
        const { UsageError } = await import('./errors.js');
        throw new UsageError('--format applies to render apigw only');
      }
      const { runRender, formatRenderText } = await import('./commands/render.js');
      const result = await runRender(opts);
      emit({ exitCode: result.exitCode, stdout: opts.json ? json(result) : formatRenderText(result) });
    });

  program
    .command('validate')
    .description('render into a throwaway prefix, run the real nginx -t, and lint what nginx -t cannot see')
    .addOption(configOption())
    .addOption(phaseOption())
    .option('--nginx <path>', 'nginx binary (default: nginx on PATH or /usr/sbin/nginx)')
    .option('--keep', 'keep the throwaway prefix and print its path')
    .option('--json', 'print the result as JSON')
    .action(async (opts) => {
      const { runValidate, formatValidateText } = await import('./commands/validate.js');
      const result = await runValidate(opts);
      emit({ exitCode: result.exitCode, stdout: opts.json ? json(result) : formatValidateText(result) });
    });

  program
    .command('lint')
    .description('static checks nginx -t cannot do, on any nginx config (includes resolved; nginx -T dumps too)')
    .argument('<file...>', 'nginx config files (- reads an nginx -T dump from standard input)')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json', 'sarif']).default('text'))
    .option('--json', 'same as --format json')
    .option('--prefix <dir>', "nginx's -p: the base of a relative --conf-dir")
    .option('--conf-dir <dir>', 'where relative includes resolve: the directory of the main nginx.conf (default: the directory of the file given)')
    .action(async (files: string[], opts) => {
      const { runLint, formatLintOutput } = await import('./commands/lint.js');
      const result = await runLint({ files, format: opts.json ? 'json' : opts.format, prefix: opts.prefix, confDir: opts.confDir });
      emit({ exitCode: result.exitCode, stdout: formatLintOutput(result) });
    });

  program
    .command('demo')
    .description('the whole migration on this machine: sandbox, steady callbacks, off -> shadow -> shadow-domain -> primary -> direct through gated cutover advances, one refused advance and its rollback')
    .option('--rate <n>', 'callbacks per second', '20')
    .option('--soak <duration>', 'how long traffic flows in each phase before its gate', '5s')
    .option('--listen <host:port>', 'where the metrics are served (default: 127.0.0.1 on a free port)')
    .option('--nginx <path>', 'nginx binary')
    .option('--keep', 'leave everything running after the walk, until Ctrl-C')
    .option('-c, --config <file>', 'walk your own mirror.yaml (its names; only ports, resolver, queue endpoint and certificates become local)')
    .addOption(new Option('--transport <transport>', "how shadow traffic reaches API Gateway (default: the config's mirror.transport)").choices(['nginx', 'ship']))
    .option('--json', 'print the summary as JSON')
    .action(async (opts) => {
      const { runDemo, formatDemoText } = await import('./commands/demo.js');
      const { durationPattern, durationToMs } = await import('./config/nginxValues.js');
      const { UsageError } = await import('./errors.js');
      if (!durationPattern.test(opts.soak)) throw new UsageError(`--soak ${opts.soak}: expected a duration such as 3s or 10s`);
      const stop = new AbortController();
      const interrupt = () => stop.abort();
      process.once('SIGINT', interrupt);
      process.once('SIGTERM', interrupt);
      try {
        const result = await runDemo({
          rate: Number(opts.rate),
          soakMs: durationToMs(opts.soak),
          ...(opts.listen ? { listen: opts.listen } : {}),
          ...(opts.nginx ? { nginx: opts.nginx } : {}),
          keep: Boolean(opts.keep),
          ...(opts.config ? { config: opts.config } : {}),
          ...(opts.transport ? { transport: opts.transport } : {}),
          signal: stop.signal,
          progress: (line: string) => process.stderr.write(`${line}\n`),
        });
        emit({ exitCode: result.exitCode, stdout: opts.json ? json(result) : formatDemoText(result) });
      } finally {
        process.removeListener('SIGINT', interrupt);
        process.removeListener('SIGTERM', interrupt);
      }
    });

  program
    .command('verify')
    .description('the parity comparator: every callback nginx logged against the messages in SQS; a report and a gate')
    .addOption(configOption())
    .option('--parity-log <file...>', 'parity log files or globs (several hosts, rotated, .gz), - for stdin (default: parityLog.path)')
    .option('--sqs-archive <file...>', 'read archived messages from earlier consume runs instead of SQS')
    .addOption(
      new Option('--mode <mode>', "peek: look, never delete; consume: archive, then delete; ack: judge from API Gateway's answers, never touch the queue (default: ack when verify.liveConsumer, else peek)").choices(['peek', 'consume', 'ack']),
    )
    .option('--ack-log <file...>', "with --mode ack: mirror ship's ack logs (beside the mirror answers log and ship.ackLog)")
    .option('--archive <file>', 'owner-only archive for --mode consume')
    .option('--since <time>', 'window start: ISO time or a duration back from now (30m)')
    .option('--until <time>', 'window end: ISO time or a duration back from now')
    .option('--grace <duration>', 'unmatched callbacks older than this are missing (default: verify.grace)')
    .option('--match <how>', 'request-id (default), body-hash, or field:MSGID,field:RESULT')
    .option('--gate <ratio>', 'minimum parity to pass (default: verify.gate)', Number)
    .option('--min-sample <n>', 'callbacks judged before a pass is possible (default: verify.minSample)', Number)
    .option('--receivers <n>', 'concurrent long-polling receivers', Number)
    .option('--allow-redrive-receives', "peek although the queue's redrive policy counts each receive toward its dead-letter queue")
    .option('--show-bodies', 'print the bodies of mismatches (personal fields masked)')
    .option('--no-redact', 'with --show-bodies: do not mask personal fields')
    .option('--json', 'print the whole report as one JSON document')
    .option('--watch', 'run continuously: follow the logs, long-poll SQS, serve metrics')
    .option('--listen <host:port>', 'with --watch: where /metrics is served', '127.0.0.1:9464')
    .option('--cutover-state <file>', 'with --watch: the phase gauge follows this cutover state file (e.g. .mirror/state.json)')
    .action(async (opts) => {
      if (opts.watch) {
        const { runWatch, formatWatchText } = await import('./commands/watch.js');
        const result = await runWatch({ ...opts, parityLog: opts.parityLog, redact: opts.redact });
        emit({ exitCode: result.exitCode, stdout: opts.json ? json(result) : formatWatchText(result) });
        return;
      }
      const { runVerify, formatVerifyText } = await import('./commands/verify.js');
      const result = await runVerify({ ...opts, parityLog: opts.parityLog, redact: opts.redact });
      emit({ exitCode: result.exitCode, stdout: opts.json ? json(result) : formatVerifyText(result) });
    });

  program
    .command('ship')
    .description('mirror.transport ship: follow the parity logs and send each shadow callback to API Gateway, at least once (runs until SIGTERM)')
    .addOption(configOption())
    .option('--parity-log <file...>', 'parity logs or globs to follow, rotated names too (default: parityLog.path)')
    .option('--listen <host:port>', 'where /metrics is served (default: ship.listen)')
    .option('--json', 'print the summary at exit as JSON')
    .action(async (opts) => {
      const { runShip, formatShipText } = await import('./commands/ship.js');
      const stop = new AbortController();
      const interrupt = () => stop.abort();
      process.once('SIGINT', interrupt);
      process.once('SIGTERM', interrupt);
      try {
        const result = await runShip({ ...opts, signal: stop.signal });
        emit({ exitCode: result.exitCode, stdout: opts.json ? json(result) : formatShipText(result) });
      } finally {
        process.removeListener('SIGINT', interrupt);
        process.removeListener('SIGTERM', interrupt);
      }
    });

  const sandbox = program.command('sandbox').description('run every local part on 127.0.0.1: nginx, dnsmasq, the gateway stand-in, fauxqs, an origin');
  for (const action of ['up', 'down', 'status'] as const) {
    const sub = sandbox
      .command(action)
      .description(
        action === 'up'
          ? 'start the sandbox in the background and print its endpoints'
          : action === 'down'
            ? 'stop exactly what up started'
            : 'report each part, and any that crashed',
      )
      .option('--dir <dir>', 'state directory', '.mirror-sandbox')
      .option('--json', 'print the result as JSON');
    if (action === 'up') {
      sub.addOption(new Option('--phase <phase>', 'phase nginx runs').choices(phases).default('shadow'));
      sub.option('--sample <percent>', "percent mirrored (default: the config's mirror.sample)");
      sub.option('-c, --config <file>', 'your mirror.yaml: its names run in the sandbox, only ports, resolver, queue endpoint and certificates become local');
    }
    sub.action(async (opts) => {
      const commands = await import('./commands/sandbox.js');
      const run = action === 'up' ? commands.sandboxUp : action === 'down' ? commands.sandboxDown : commands.sandboxStatus;
      const result = await run({ ...opts, ...(opts.sample !== undefined ? { sample: Number(opts.sample) } : {}) });
      emit({ exitCode: result.exitCode, stdout: opts.json ? json(result) : commands.formatSandboxText(result) });
    });
  }

  program
    .command('probe')
    .description('send marked synthetic callbacks and time them into SQS; exit 1 when any did not arrive')
    .addOption(configOption())
    .addOption(new Option('--phase <phase>', "phase whose API Gateway URL is probed (default: the config's phase)").choices(phases))
    .option('--count <n>', 'probes to send', '3')
    .option('--through-nginx', 'send through nginx (the origin gets them too) instead of straight to API Gateway')
    .option('--nginx-url <url>', 'with --through-nginx: where nginx takes callbacks (default http://127.0.0.1{callback.path})')
    .option('--timeout <duration>', 'how long to wait for each probe in SQS', '30s')
    .option('--connect-to <host:port>', 'connect here instead of resolving the API Gateway host (Host and SNI unchanged)')
    .option('--ca <file>', "CA bundle for API Gateway's certificate (default: apiGateway.trustedCertificate)")
    .option('--json', 'print the result as JSON')
    .action(async (opts) => {
      const { runProbe, formatProbeText } = await import('./commands/probe.js');
      const result = await runProbe({ ...opts, count: Number(opts.count) });
      emit({ exitCode: result.exitCode, stdout: opts.json ? json(result) : formatProbeText(result) });
    });

  const cutover = program.command('cutover').description('plan, show, advance and roll back the phases; each advance gated by parity');
  cutover
    .command('plan')
    .description('each phase: what traffic does, the nginx diff from the phase before, the gate to enter it')
    .addOption(configOption())
    .option('--state <file>', 'cutover state file (default: cutover.stateFile, .mirror/state.json)')
    .option('--json', 'print the plan as JSON')
    .action(async (opts) => {
      const { runCutoverPlan, formatCutoverPlanText } = await import('./commands/cutover.js');
      const result = await runCutoverPlan(opts);
      emit({ exitCode: result.exitCode, stdout: opts.json ? json(result) : formatCutoverPlanText(result) });
    });
  cutover
    .command('status')
    .description('the current phase, since when, and the live gate into the next (exit: that gate\'s verdict)')
    .addOption(configOption())
    .option('--state <file>', 'cutover state file (default: cutover.stateFile, .mirror/state.json)')
    .option('--no-gate', 'do not run the next phase\'s gate')
    .option('--no-probe', 'shadow gate: do not send probes (the gate is then inconclusive)')
    .option('--probe-connect-to <host:port>', 'shadow gate: probes connect here instead of resolving the API Gateway host')
    .option('--probe-ca <file>', "shadow gate: CA bundle for API Gateway's certificate (default: apiGateway.trustedCertificate)")
    .option('--soak <duration>', 'verify window back from now (default: since the current phase was entered)')
    .option('--parity-log <file...>', 'parity logs for the gate (default: parityLog.path)')
    .option('--nginx <path>', 'nginx binary for the validate step')
    .option('--json', 'print the status as JSON')
    .action(async (opts) => {
      const { runCutoverStatus, formatCutoverStatusText } = await import('./commands/cutover.js');
      const { mirrorProbe } = await import('./cutover/gates.js');
      const { probe, probeConnectTo, probeCa, ...rest } = opts;
      const result = await runCutoverStatus({ ...rest, ...(probe ? { probe: mirrorProbe(probeOptions(probeConnectTo, probeCa)) } : {}) });
      emit({ exitCode: result.exitCode, stdout: opts.json ? json(result) : formatCutoverStatusText(result) });
    });
  for (const direction of ['advance', 'rollback'] as const) {
    const sub = cutover
      .command(direction)
      .description(
        direction === 'advance'
          ? 'gate, render, nginx -t, back up and write the next phase\'s include files; --reload and confirm it took'
          : 'back to the previous phase the same way, gate-free',
      )
      .addOption(configOption())
      .option('--state <file>', 'cutover state file (default: cutover.stateFile, .mirror/state.json)')
      .addOption(new Option('--to <phase>', direction === 'advance' ? 'a later phase (skipping needs --force --reason)' : 'an earlier phase').choices(phases))
      .option('--dry-run', 'print the gate result and the diff; change nothing')
      .option('--nginx-dir <dir>', 'where nginx includes the files from (default: cutover.nginxDir, mirror-nginx)')
      .option('--nginx <path>', 'nginx binary (default: nginx on PATH or /usr/sbin/nginx)')
      .option('--test-command <cmd>', 'test the live config after writing (default with --reload: nginx -t)')
      .option('--reload', 'reload nginx and confirm the new config is active; restore the backup if not')
      .option('--reload-command <cmd>', 'with --reload (default: nginx -s reload)')
      .option('--pid-file <file>', 'with --reload: the master\'s pid file', '/run/nginx.pid')
      .option('--error-log <file>', 'with --reload: nginx\'s main error log', '/var/log/nginx/error.log')
      .option('--reload-timeout <duration>', 'with --reload: how long to wait for the new workers', '15s')
      .option('--json', 'print the result as JSON');
    if (direction === 'advance') {
      sub
        .option('--force', 'go past a failed/inconclusive gate or skip phases (needs --reason; recorded)')
        .option('--reason <text>', 'why, recorded in the state with your user name')
        .option('--soak <duration>', 'verify window back from now (default: since the current phase was entered)')
        .option('--parity-log <file...>', 'parity logs for the gate (default: parityLog.path)')
        .option('--no-probe', 'shadow gate: do not send probes (the gate is then inconclusive)')
        .option('--probe-connect-to <host:port>', 'shadow gate: probes connect here instead of resolving the API Gateway host')
        .option('--probe-ca <file>', "shadow gate: CA bundle for API Gateway's certificate (default: apiGateway.trustedCertificate)");
    }
    sub.action(async (opts) => {
      const commands = await import('./commands/cutover.js');
      // --pid-file/--error-log defaults only matter with --reload; drop them otherwise.
      const { pidFile, errorLog, reloadTimeout, probe, probeConnectTo, probeCa, ...rest } = opts;
      const live = opts.reload ? { pidFile, errorLog, reloadTimeout } : {};
      let result;
      if (direction === 'advance') {
        const { mirrorProbe } = await import('./cutover/gates.js');
        result = await commands.runCutoverAdvance({ ...rest, ...live, ...(probe ? { probe: mirrorProbe(probeOptions(probeConnectTo, probeCa)) } : {}) });
      } else {
        result = await commands.runCutoverRollback({ ...rest, ...live });
      }
      emit({ exitCode: result.exitCode, stdout: opts.json ? json(result) : commands.formatCutoverMoveText(result) });
    });
  }

  program
    .command('doctor')
    .description('name each known failure in nginx error logs or API Gateway test/execution output, with its cause and fix')
    .argument('[stdin]', '- to read standard input')
    .option('--error-log <file...>', 'nginx error log or saved API Gateway output')
    .option('-c, --config <file>', "read the logs the config names (sandbox.errorLogs) when no other input is given")
    .option('--text <message>', 'one pasted message')
    .option('--json', 'print the report as JSON')
    .action(async (stdin: string | undefined, opts) => {
      if (stdin !== undefined && stdin !== '-') {
        const { UsageError } = await import('./errors.js');
        throw new UsageError(`doctor: unexpected argument "${stdin}"; expected - (standard input)`);
      }
      const { runDoctor, formatDoctorText } = await import('./commands/doctor.js');
      const result = await runDoctor({ ...opts, stdin: stdin === '-' });
      emit({ exitCode: result.exitCode, stdout: opts.json ? json(result.report) : formatDoctorText(result.report) });
    });

  return program;
}
