/**
 * Every command against the sandbox as it stands, as a new user tries them: `mirror
 * sandbox up`, then verify, cutover advance and status, probe and doctor with `-c`
 * and the config the sandbox wrote, nothing else. No AWS variable is set and HOME is
 * empty, so no credential file can help: the config alone must carry what the
 * commands need (the emulator's credentials, where probes connect, the CA).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { parse } from 'yaml';
import { sandboxDown } from '../../src/commands/sandbox.js';
import { readState } from '../../src/sandbox/sandboxState.js';
import { waitFor } from '../../src/os/childProcess.js';
import { sendCallbacks, trickyCallback } from '../../src/sandbox/callbacks.js';
import { bizppurio } from '../../src/vendors/bizppurio.js';
import { runMirror } from '../support/cli.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) {
    if (await readState(dir)) await sandboxDown({ dir });
    await rm(dir, { recursive: true, force: true });
  }
});

/** The environment without any AWS_* variable, HOME pointing at an empty directory. */
function userEnvironment(home: string): Record<string, string | undefined> {
  const cleared = Object.fromEntries(Object.keys(process.env).filter((k) => k.startsWith('AWS_')).map((k) => [k, undefined]));
  return { ...cleared, HOME: home };
}

it('verify, cutover advance and status, probe and doctor run against the sandbox with -c alone', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mirror-sandbox-cmds-'));
  dirs.push(dir);
  const home = join(dir, 'home');
  const env = userEnvironment(home) as Record<string, string>;
  const mirror = (args: string[]) => runMirror(args, { timeout: 120_000, env });

  const up = await mirror(['sandbox', 'up', '--dir', dir, '--json']);
  expect(up.exitCode, up.stderr).toBe(0);
  const state = (JSON.parse(up.stdout) as { state: { endpoints: Record<string, string> } }).state;
  const config = state.endpoints.config!;
  // The secret is in the owner-only config, never in what up printed.
  expect(up.stdout).not.toContain('secretAccessKey');
  const written = parse(await readFile(config, 'utf8')) as { sandbox: Record<string, unknown> };
  expect(Object.keys(written.sandbox).sort()).toEqual(['caCertificate', 'errorLogs', 'gatewayAddress', 'sqsCredentials']);

  // Enough callbacks for the gate's minimum sample, in two batches: verify peeks at
  // the first (peeked messages stay invisible for a while), the cutover gate judges the second.
  const send = async (from: number) => {
    const bodies = Array.from({ length: 110 }, (_, i) => trickyCallback(bizppurio, from + i));
    const sent = await sendCallbacks(state.endpoints.callback!, bodies);
    expect(sent.every((r) => r.status === 200)).toBe(true);
  };
  await send(0);
  const verify = await waitForExit(() => mirror(['verify', '-c', config, '--json']), 0);
  expect(JSON.parse(verify.stdout)).toMatchObject({ gate: { verdict: 'pass' }, counts: { matched: 110, missing: 0 } });

  await send(1000);
  const advance = await waitForExit(() => mirror(['cutover', 'advance', '-c', config, '--json']), 0);
  expect(JSON.parse(advance.stdout)).toMatchObject({ from: 'shadow', to: 'shadow-domain' });

  // Just entered: nothing judged in the new phase yet, so the next gate cannot decide (4), not an error.
  const status = await mirror(['cutover', 'status', '-c', config, '--json']);
  expect(status.exitCode, status.stderr + status.stdout).toBe(4);
  expect(JSON.parse(status.stdout)).toMatchObject({ phase: 'shadow-domain', next: { phase: 'primary', gate: { verdict: 'inconclusive' } } });

  const probe = await mirror(['probe', '-c', config, '--count', '2', '--timeout', '20s', '--json']);
  expect(probe.exitCode, probe.stderr).toBe(0);
  expect(JSON.parse(probe.stdout)).toMatchObject({ verdict: 'arrived', sent: 2, arrived: 2 });

  const doctor = await mirror(['doctor', '-c', config, '--json']);
  expect(doctor.exitCode, doctor.stderr + doctor.stdout).toBe(0);
  const report = JSON.parse(doctor.stdout) as { inputs: { name: string; lines: number }[] };
  expect(report.inputs.map((i) => i.name)).toEqual(written.sandbox.errorLogs);
  expect(report.inputs.find((i) => i.name.endsWith('gateway.log'))!.lines).toBeGreaterThan(0);
}, 240_000);

/**
 * Runs a command until it exits with `code`: a callback's message reaches SQS a
 * moment after nginx answered the vendor, so the first look may still find some pending.
 */
async function waitForExit(run: () => ReturnType<typeof runMirror>, code: number) {
  let last: Awaited<ReturnType<typeof runMirror>> | undefined;
  await waitFor(async () => {
    last = await run();
    return last.exitCode === code;
  }, { timeoutMs: 60_000, what: `exit ${code}` }).catch(() => undefined);
  expect(last!.exitCode, last!.stderr + last!.stdout).toBe(code);
  return last!;
}
