/**
 * `mirror sandbox up --consumer` as a user runs it: the supervisor runs a consumer
 * beside the queue, the config it writes says so (`verify.liveConsumer: true`), and
 * `mirror verify -c` on that config judges from API Gateway's answers, never the queue.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { parse } from 'yaml';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { sandboxDown } from '../../src/commands/sandbox.js';
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

describe('mirror sandbox up --consumer', () => {
  it('runs a consumer that empties the queue, writes verify.liveConsumer, and verify -c judges in ack mode', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mirror-sandbox-consumer-'));
    dirs.push(dir);
    const run = await runMirror(['sandbox', 'up', '--consumer', '--dir', dir, '--json'], { timeout: 120_000 });
    expect(run.exitCode, run.stderr).toBe(0);
    const state = JSON.parse(run.stdout).state;
    const configPath = state.endpoints.config as string;
    const written = parse(await readFile(configPath, 'utf8'));
    expect(written.verify.liveConsumer).toBe(true);

    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) {
      const res = await request(state.endpoints.callback, { method: 'POST', headers: { 'content-type': 'application/json' }, body: trickyCallback(bizppurio, i) });
      statuses.push(res.statusCode);
      await res.body.text();
    }
    expect(statuses.every((s) => s === 200)).toBe(true);
    // The consumer deletes what arrives: the queue goes back to empty.
    const sqs = new SQSClient({ endpoint: state.endpoints.sqsEndpoint, region: 'ap-northeast-2', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    try {
      await waitFor(async () => {
        const a = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: state.endpoints.queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }))).Attributes ?? {};
        return a.ApproximateNumberOfMessages === '0' && a.ApproximateNumberOfMessagesNotVisible === '0';
      }, { timeoutMs: 20_000, what: 'the consumer to empty the queue' });
    } finally {
      sqs.destroy();
    }
    const verify = await runMirror(['verify', '-c', configPath, '--grace', '0s', '--min-sample', '10', '--json'], { timeout: 60_000 });
    const report = JSON.parse(verify.stdout);
    expect(report.sqs.note).toMatch(/^ack: /);
    expect(report.counts).toMatchObject({ matched: 10, missing: 0 });
    expect(report.receivesAdded).toBe(0);
    expect(verify.exitCode, verify.stderr).toBe(0);

    const down = await runMirror(['sandbox', 'down', '--dir', dir], { timeout: 60_000 });
    expect(down.exitCode, down.stderr).toBe(0);
    for (const part of state.parts as { pid: number; name: string }[]) expect(alive(part.pid), `${part.name} stopped`).toBe(false);
  }, 180_000);
});
