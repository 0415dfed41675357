/**
 * `mirror demo -c mirror.yaml` walks the user's own migration: their names in every
 * phase, the deliberate base-path mistake made on their base path, nothing lost.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { isAlive as alive } from '../../src/os/processes.js';
import { runMirror } from '../support/cli.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

it("mirror demo -c walks the user's config off -> direct with the mistake on their base path", async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mirror-user-demo-'));
  dirs.push(dir);
  const configPath = join(dir, 'mirror.yaml');
  await writeFile(
    configPath,
    stringify({
      vendor: 'bizppurio',
      callback: { path: '/hooks/delivery-report', upstream: 'http://origin.acme.internal:8080' },
      apiGateway: { restApiId: 'qq1ww2ee3r', region: 'us-west-2', stage: 'live', customDomain: 'dlr.acme-notify.net', basePath: 'sms' },
      resolver: { addresses: ['10.20.0.2'] },
      mirror: { requestIdHeader: 'X-Acme-Trace', connectTimeout: '5s', sendTimeout: '5s', readTimeout: '10s' },
      sqs: { queueUrl: 'https://sqs.us-west-2.amazonaws.com/210987654321/acme-dlr' },
    }),
  );
  const run = await runMirror(['demo', '-c', configPath, '--rate', '10', '--soak', '3s', '--json'], { timeout: 180_000 });
  expect(run.exitCode, run.stderr).toBe(0);
  const result = JSON.parse(run.stdout);
  expect(result.verdict).toBe('pass');
  expect(result.finalPhase).toBe('direct');
  const edits = result.steps.filter((s: { action: string }) => s.action === 'edit').map((s: { note: string }) => s.note);
  expect(edits).toEqual([expect.stringContaining('"sms" -> "sms-typo"'), expect.stringContaining('"sms-typo" -> "sms"')]);
  expect(run.stderr).toMatch(/dlr\.acme-notify\.net\/sms-typo\//);
  expect(result.totals.lost).toBe(0);
  const direct = result.phases.find((p: { label: string }) => p.label === 'direct');
  expect(direct.arrivedInSqs).toBe(direct.sent);
  for (const p of result.processes) expect(alive(p.pid), `${p.name} (${p.pid}) stopped`).toBe(false);
}, 200_000);
