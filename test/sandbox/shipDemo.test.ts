/**
 * `mirror demo --transport ship` walks the whole migration with the shipper doing
 * the shadow phases' sending: off -> shadow -> shadow-domain (broken, refused,
 * rolled back, fixed) -> primary -> direct, nothing lost, the shipper stopped at
 * the end with everything else.
 */
import { afterEach, expect, it } from 'vitest';
import { rm } from 'node:fs/promises';
import { isAlive as alive } from '../../src/os/processes.js';
import { runMirror } from '../support/cli.js';

let workDir: string | undefined;
afterEach(async () => {
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

it('mirror demo --transport ship walks off -> direct through the shipper with nothing lost', async () => {
  const run = await runMirror(['demo', '--transport', 'ship', '--rate', '10', '--soak', '3s', '--json'], { timeout: 240_000 });
  expect(run.exitCode, run.stderr).toBe(0);
  const result = JSON.parse(run.stdout);
  workDir = result.workDir;
  expect(result.verdict).toBe('pass');
  expect(result.finalPhase).toBe('direct');
  expect(run.stderr).toMatch(/mirror ship \(pid \d+\) tails/);
  // The broken base path: the gate into primary refused, as with nginx's mirror.
  expect(result.steps).toContainEqual(expect.objectContaining({ action: 'advance', to: 'primary', outcome: 'refused' }));
  // Into primary with ship, the gate also proved nginx itself reaches the custom domain.
  const intoPrimary = result.steps.find((s: { action: string; to: string; outcome: string }) => s.action === 'advance' && s.to === 'primary' && s.outcome === 'done');
  expect(intoPrimary.gate.figures).toMatchObject({ 'nginxReach.probesSent': 3, 'nginxReach.probesAnswered2xx': 3 });
  expect(result.totals.lost).toBe(0);
  for (const label of ['shadow', 'shadow-domain']) {
    const phase = result.phases.find((p: { label: string }) => p.label === label);
    expect(phase.sent, label).toBeGreaterThan(0);
    expect(phase.arrivedInSqs, label).toBe(phase.sent);
  }
  const names = result.processes.map((p: { name: string }) => p.name);
  expect(names).toContain('mirror ship');
  for (const p of result.processes) expect(alive(p.pid), `${p.name} (${p.pid}) stopped`).toBe(false);
}, 260_000);
