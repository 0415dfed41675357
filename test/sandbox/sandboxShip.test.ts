/**
 * `mirror sandbox up -c` with `mirror.transport: ship`: the shipper is one of the
 * parts, `status` reports it like the others (and its crash), a callback through
 * nginx reaches SQS by way of the parity log, and `down` leaves nothing running.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { stringify } from 'yaml';
import { sandboxDown, sandboxStatus, type SandboxResult } from '../../src/commands/sandbox.js';
import { readState } from '../../src/sandbox/sandboxState.js';
import { waitFor } from '../../src/os/childProcess.js';
import { isAlive as alive } from '../../src/os/processes.js';
import { trickyCallback } from '../../src/sandbox/callbacks.js';
import { bizppurio } from '../../src/vendors/bizppurio.js';
import { runMirror } from '../support/cli.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) {
    if (await readState(dir)) await sandboxDown({ dir });
    await rm(dir, { recursive: true, force: true });
  }
});

describe('mirror sandbox with mirror.transport: ship', () => {
  it('runs the shipper as a part: callbacks reach SQS through it, status reports it, down stops it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mirror-sandbox-ship-'));
    dirs.push(dir);
    const userConfig = join(dir, 'user.yaml');
    await writeFile(userConfig, stringify({ mirror: { transport: 'ship' } }));
    const run = await runMirror(['sandbox', 'up', '--dir', join(dir, 'sb'), '-c', userConfig, '--phase', 'shadow', '--json'], { timeout: 120_000 });
    expect(run.exitCode, run.stderr).toBe(0);
    const state = (JSON.parse(run.stdout) as SandboxResult).state!;
    const shipper = state.parts.find((p) => p.name === 'mirror ship');
    expect(shipper, JSON.stringify(state.parts)).toBeDefined();
    expect(alive(shipper!.pid)).toBe(true);
    expect(state.endpoints.shipMetrics).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);

    // nginx renders no mirror with ship: what reaches SQS came through the shipper.
    const bodies = [trickyCallback(bizppurio, 1), trickyCallback(bizppurio, 2)];
    for (const body of bodies) {
      const res = await request(state.endpoints.callback!, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      expect(res.statusCode).toBe(200);
      await res.body.text();
    }
    const sqs = new SQSClient({ endpoint: state.endpoints.sqsEndpoint!, region: 'ap-northeast-2', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    try {
      let got: string[] = [];
      await waitFor(async () => {
        const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl: state.endpoints.queueUrl!, WaitTimeSeconds: 1, MaxNumberOfMessages: 10 }));
        got = got.concat((out.Messages ?? []).map((m) => m.Body ?? ''));
        return got.length >= bodies.length;
      }, { timeoutMs: 30_000, what: 'both callbacks in SQS' });
      expect(got.sort()).toEqual([...bodies].sort());
    } finally {
      sqs.destroy();
    }
    const metrics = await (await fetch(state.endpoints.shipMetrics!)).text();
    expect(metrics).toMatch(/mirror_ship_sent_total\{outcome="delivered"\} 2\b/);

    const healthy = await sandboxStatus({ dir: join(dir, 'sb') });
    expect(healthy.exitCode).toBe(0);
    expect(healthy.parts).toContainEqual({ name: 'mirror ship', pid: shipper!.pid, alive: true });
    process.kill(shipper!.pid, 'SIGKILL');
    await waitFor(() => !alive(shipper!.pid), { timeoutMs: 10_000, what: 'the shipper gone' });
    const degraded = await sandboxStatus({ dir: join(dir, 'sb') });
    expect(degraded.exitCode).toBe(1);
    expect(degraded.message).toMatch(/mirror ship \(pid \d+\) is not running/);

    const down = await sandboxDown({ dir: join(dir, 'sb') });
    expect(down.exitCode).toBe(0);
    for (const part of state.parts) expect(alive(part.pid), `${part.name} stopped`).toBe(false);
  }, 180_000);
});
