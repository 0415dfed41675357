/**
 * `mirror verify --watch` as a user runs it stops on Ctrl-C (SIGINT) or SIGTERM:
 * it closes what it opened, prints its final report and exits with the gate's
 * code, instead of dying mid-write. The signal reaches the watch through the
 * shared handling of long-running commands (src/commands/define.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFauxqs, type Fauxqs } from '../../src/sqs/fauxqs.js';
import { waitFor } from '../../src/os/childProcess.js';
import { exampleConfig, withValue, writeConfigFile } from '../support/config.js';
import { runMirror } from '../support/cli.js';

let fauxqs: Fauxqs;
beforeAll(async () => {
  fauxqs = await startFauxqs();
});
afterAll(async () => {
  await fauxqs?.stop();
});

describe('mirror verify --watch and signals', () => {
  it.each(['SIGINT', 'SIGTERM'] as const)('%s ends the watch with its report and the gate exit code', async (signal) => {
    const name = `watch-${signal.toLowerCase()}`;
    await fauxqs.createQueue(name);
    const dir = await mkdtemp(join(tmpdir(), 'mirror-watch-signal-'));
    const raw = withValue(exampleConfig(), 'sqs', { queueUrl: `https://sqs.ap-northeast-2.amazonaws.com/000000000000/${name}`, endpoint: fauxqs.endpoint });
    const config = await writeConfigFile(raw, dir);
    const log = join(dir, 'parity.log');
    await writeFile(log, '');
    const watch = runMirror(['verify', '--watch', '-c', config, '--parity-log', log, '--listen', '127.0.0.1:0', '--json'], {
      env: { AWS_ACCESS_KEY_ID: 'fauxqs', AWS_SECRET_ACCESS_KEY: 'fauxqs' },
    });
    let stderr = '';
    watch.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    try {
      // Without a terminal the watch writes one line per interval to stderr: it is running.
      await waitFor(() => stderr.trim().length > 0, { timeoutMs: 60_000, what: `the watch's first log line (stderr so far: ${stderr})` });
      watch.kill(signal);
      const run = await watch;
      // Nothing was judged: the gate cannot decide (exit 4), and the report says so.
      expect(run.exitCode, run.stderr).toBe(4);
      const report = JSON.parse(run.stdout) as { exitCode: number; parity: number | null; ticks: number };
      expect(report).toMatchObject({ exitCode: 4, parity: null });
      expect(report.ticks).toBeGreaterThan(0);
    } finally {
      watch.kill('SIGKILL');
    }
  }, 120_000);
});
