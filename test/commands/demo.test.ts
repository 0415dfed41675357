/**
 * `mirror demo` as a user runs it (the CLI in its own process), at a small rate:
 * the whole walk off -> direct, the refused advance, nothing lost, and no process
 * left behind.
 */
import { describe, expect, it } from 'vitest';
import { readdir, readFile } from 'node:fs/promises';
import { execa } from 'execa';
import { isAlive as alive } from '../../src/os/processes.js';
import { runMirror } from '../support/cli.js';

/** Command lines of every process that mentions a path. */
async function processesMentioning(text: string): Promise<string[]> {
  const out: string[] = [];
  for (const pid of (await readdir('/proc')).filter((p) => /^\d+$/.test(p))) {
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(text)) out.push(`${pid}: ${cmdline.replace(/\0/g, ' ')}`);
  }
  return out;
}

describe('mirror demo', () => {
  it('walks off -> direct through gated advances, shows one refused advance and its rollback, loses nothing, leaves no process', async () => {
    const run = await runMirror(['demo', '--rate', '10', '--soak', '3s', '--json'], { timeout: 180_000 });
    expect(run.exitCode, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result.verdict).toBe('pass');
    expect(result.finalPhase).toBe('direct');
    const moves = result.steps.filter((s: { action: string }) => s.action !== 'edit').map((s: { action: string; from: string; to: string; outcome: string }) => `${s.action} ${s.from}->${s.to} ${s.outcome}`);
    expect(moves).toEqual([
      'advance off->shadow done',
      'advance shadow->shadow-domain done',
      'advance shadow-domain->primary refused',
      'rollback shadow-domain->shadow done',
      'advance shadow->shadow-domain done',
      'advance shadow-domain->primary done',
      'advance primary->direct done',
    ]);
    // The refusal was the gate's, on the broken base path's missing messages.
    const refused = result.steps.find((s: { outcome: string }) => s.outcome === 'refused');
    expect(refused.gate.verdict).toBe('fail');
    expect(refused.gate.figures.missing).toBeGreaterThan(0);
    for (const s of result.steps.filter((x: { action: string; outcome: string; gate?: unknown }) => x.action === 'advance' && x.outcome === 'done')) expect(s.gate.verdict).toBe('pass');
    // Nothing lost anywhere but the deliberately broken step, which the origin still had.
    expect(result.totals.lost).toBe(0);
    expect(result.totals.sent).toBeGreaterThan(150);
    const direct = result.phases.find((p: { label: string }) => p.label === 'direct');
    expect(direct.arrivedInSqs).toBe(direct.sent);
    expect(direct.receivedByOrigin).toBe(0);
    const broken = result.phases.find((p: { label: string }) => p.label === 'shadow-domain (broken)');
    expect(broken.receivedByOrigin).toBe(broken.sent);
    expect(result.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    // Progress went to stderr; no callback body (phone numbers) anywhere.
    expect(run.stderr).toMatch(/metrics at http/);
    expect(run.stdout + run.stderr).not.toMatch(/0101234/);
    // No process left behind: every part's pid is gone, and nothing mentions the demo's directories.
    expect(result.processes.length).toBe(3);
    for (const p of result.processes) expect(alive(p.pid), `${p.name} (${p.pid}) stopped`).toBe(false);
    expect(await processesMentioning(result.workDir)).toEqual([]);
  }, 200_000);

  it('without nginx: says how to install it and exits 3, starting nothing', async () => {
    const run = await runMirror(['demo', '--nginx', '/nonexistent/nginx'], { timeout: 60_000 });
    expect(run.exitCode).toBe(3);
    expect(run.stderr).toMatch(/apt-get install/);
    expect(run.stderr).not.toMatch(/starting the sandbox/);
  });
});
