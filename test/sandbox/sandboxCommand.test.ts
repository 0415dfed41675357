/**
 * `mirror sandbox up|status|down` as a user runs them: a detached supervisor that
 * owns every part, a state file with the endpoints, crashes reported, and nothing
 * left behind by `down`.
 */
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { sandboxDown, sandboxStatus, sandboxUp } from '../../src/commands/sandbox.js';
import { readState } from '../../src/sandbox/sandboxState.js';
import { waitFor } from '../../src/os/childProcess.js';
import { childPids, isAlive as alive } from '../../src/os/processes.js';
import { trickyCallback } from '../../src/sandbox/callbacks.js';
import { execa } from 'execa';

import { bizppurio } from '../../src/vendors/bizppurio.js';
import { runMirror } from '../support/cli.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) {
    // Pass or fail, nothing stays running.
    const state = await readState(dir);
    if (state) await sandboxDown({ dir });
    await rm(dir, { recursive: true, force: true });
  }
});

describe('mirror sandbox', () => {
  it('up prints working endpoints, status reports a crashed part, down leaves no process behind', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mirror-sandbox-'));
    dirs.push(dir);
    // `up` as a user runs it: the CLI in its own process, which must wait for the
    // supervisor, print the endpoints and exit, leaving the sandbox running.
    const run = await runMirror(['sandbox', 'up', '--dir', dir, '--json'], { timeout: 120_000 });
    expect(run.exitCode, run.stderr).toBe(0);
    const up = JSON.parse(run.stdout) as Awaited<ReturnType<typeof sandboxUp>>;
    const state = up.state!;
    expect(await readState(dir)).toEqual(state);
    expect(Object.keys(state.endpoints)).toEqual(
      expect.arrayContaining(['callback', 'origin', 'gateway', 'dns', 'sqsEndpoint', 'queueUrl', 'parityLog', 'caCertificate', 'config']),
    );
    for (const part of state.parts) expect(alive(part.pid), `${part.name} runs`).toBe(true);
    expect((await stat(join(dir, 'state.json'))).mode & 0o077).toBe(0);

    // A second up on the same directory is refused, not a second sandbox.
    await expect(sandboxUp({ dir })).rejects.toThrow(/already running/);

    // The endpoints work: a callback through nginx lands in the queue.
    const body = trickyCallback(bizppurio, 42);
    const res = await request(state.endpoints.callback!, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(res.statusCode).toBe(200);
    await res.body.text();
    const sqs = new SQSClient({ endpoint: state.endpoints.sqsEndpoint!, region: 'ap-northeast-2', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    try {
      let got: string[] = [];
      await waitFor(async () => {
        const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl: state.endpoints.queueUrl!, WaitTimeSeconds: 1, MaxNumberOfMessages: 10 }));
        got = got.concat((out.Messages ?? []).map((m) => m.Body ?? ''));
        return got.length > 0;
      }, { timeoutMs: 20_000, what: 'the callback in SQS' });
      expect(got).toEqual([body]);
    } finally {
      sqs.destroy();
    }

    // The other commands work against it with the config it wrote: a probe through the CLI.
    const probe = await runMirror(['probe', '-c', state.endpoints.config!, '--connect-to', new URL(state.endpoints.gatewayLocal!).host, '--ca', state.endpoints.caCertificate!, '--count', '2', '--timeout', '20s', '--json'],
      { timeout: 60_000, env: { AWS_ACCESS_KEY_ID: 'sandbox', AWS_SECRET_ACCESS_KEY: 'sandbox' } },
    );
    expect(probe.exitCode, probe.stderr).toBe(0);
    expect(JSON.parse(probe.stdout)).toMatchObject({ verdict: 'arrived', sent: 2, arrived: 2 });

    // The cutover's shadow gate from the CLI, with the probe pointed at the sandbox:
    // validate + lint + probes into SQS, all real.
    const offConfig = join(dir, 'mirror-off.yaml');
    await writeFile(offConfig, (await readFile(state.endpoints.config!, 'utf8')).replace(/^phase: .*$/m, 'phase: off'));
    const gate = await runMirror(['cutover', 'status', '-c', offConfig, '--state', join(dir, 'cutover.json'), '--probe-connect-to', new URL(state.endpoints.gatewayLocal!).host, '--probe-ca', state.endpoints.caCertificate!, '--json'],
      { timeout: 120_000, env: { AWS_ACCESS_KEY_ID: 'sandbox', AWS_SECRET_ACCESS_KEY: 'sandbox' } },
    );
    expect(gate.exitCode, gate.stderr + gate.stdout).toBe(0);
    expect(JSON.parse(gate.stdout)).toMatchObject({ phase: 'off', next: { phase: 'shadow', gate: { verdict: 'pass', figures: { 'probe.arrived': 3 } } } });

    expect((await sandboxStatus({ dir })).exitCode).toBe(0);
    // A part dies: status says which, with exit 1.
    const dns = state.parts.find((p) => p.name === 'dnsmasq')!;
    process.kill(dns.pid, 'SIGKILL');
    await waitFor(() => !alive(dns.pid), { timeoutMs: 5_000, what: 'dnsmasq to die' });
    const degraded = await sandboxStatus({ dir });
    expect(degraded.exitCode).toBe(1);
    expect(degraded.message).toMatch(/dnsmasq \(pid \d+\) is not running/);
    await waitFor(async () => (await readState(dir))?.crashed.includes('dnsmasq') ?? false, { timeoutMs: 5_000, what: 'the supervisor to record the crash' });

    const down = await runMirror(['sandbox', 'down', '--dir', dir], { timeout: 60_000 });
    expect(down.exitCode, down.stderr).toBe(0);
    expect(down.stdout).toMatch(/^sandbox down: stopped /);
    for (const part of state.parts) expect(alive(part.pid), `${part.name} stopped`).toBe(false);
    expect(await readState(dir)).toBeUndefined();
    expect((await sandboxStatus({ dir })).exitCode).toBe(1);
  }, 120_000);

  it('a stop while the parts are still starting stops every part already started', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mirror-sandbox-'));
    dirs.push(dir);
    const up = sandboxUp({ dir });
    up.catch(() => undefined);
    // Its parts run in process groups of their own, so only the supervisor can stop
    // them: watch its children from outside, and stop it once the first is up.
    const seen = new Set<number>();
    let supervisor: number | undefined;
    await waitFor(async () => {
      supervisor ??= await supervisorOf(dir);
      if (supervisor) for (const pid of await childPids(supervisor)) seen.add(pid);
      return seen.size > 0;
    }, { timeoutMs: 30_000, what: 'the supervisor to start its first part' });
    process.kill(supervisor!, 'SIGTERM');
    await expect(up).rejects.toThrow(/exited while starting/);
    expect(alive(supervisor!)).toBe(false);
    await waitFor(() => [...seen].every((pid) => !alive(pid)), { timeoutMs: 20_000, what: 'every part the supervisor started to stop' });
  }, 120_000);
});

async function supervisorOf(dir: string): Promise<number | undefined> {
  for (const pid of (await readdir('/proc')).filter((p) => /^\d+$/.test(p))) {
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes('supervisorMain') && cmdline.split('\0').includes(dir)) return Number(pid);
  }
  return undefined;
}
