/**
 * `mirror demo --consumer` as a user runs it: a consumer receives and deletes beside
 * the queue, so the queue is live; every parity gate, the one into primary and
 * direct among them, judges from API Gateway's answers (ack mode), the refused
 * advance names its missing callbacks' cause (the wrong base path: 403), the
 * summary shows the missing callbacks by cause, and nothing is left running.
 */
import { describe, expect, it } from 'vitest';
import { isAlive as alive } from '../../src/os/processes.js';
import { runMirror } from '../support/cli.js';
import { missingCauses } from '../../src/verify/engine/gatewayAnswers.js';

interface Step { action: string; from: string; to: string; outcome: string; gate?: { verdict: string; figures: Record<string, string | number> } }

describe('mirror demo --consumer', () => {
  it('gates into primary and direct in ack mode, shows missing callbacks by cause, loses nothing', async () => {
    const run = await runMirror(['demo', '--consumer', '--rate', '10', '--soak', '3s', '--json'], { timeout: 180_000 });
    expect(run.exitCode, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result.verdict).toBe('pass');
    expect(result.finalPhase).toBe('direct');
    const steps = result.steps as Step[];
    // Every parity gate (all but the probe into shadow) judged from the answers, never the queue.
    const parityGates = steps.filter((s) => s.gate && s.to !== 'shadow');
    expect(parityGates.length).toBe(5);
    for (const s of parityGates) expect(s.gate!.figures.mode, `${s.from}->${s.to}`).toBe('ack');
    expect(steps.find((s) => s.to === 'direct' && s.outcome === 'done')!.gate!.verdict).toBe('pass');
    expect(steps.filter((s) => s.to === 'primary').map((s) => `${s.outcome} ${s.gate!.verdict}`)).toEqual(['refused fail', 'done pass']);
    // The refusal names why: the wrong base path's mirrors were answered 403.
    const refused = steps.find((s) => s.outcome === 'refused')!;
    expect(refused.gate!.figures.missing).toBeGreaterThan(0);
    expect(String(refused.gate!.figures.missingByCause)).toMatch(/^http-403 \(403[^)]*\) \d+$/);
    // The summary: missing by cause over the whole walk; the broken step's 403s at least as many as the gate saw.
    const byCause = result.ack.byCause as Record<string, number>;
    const http403 = Object.entries(byCause).find(([cause]) => /^http-403 \(403/.test(cause));
    expect(http403![1]).toBeGreaterThanOrEqual(refused.gate!.figures.missing as number);
    for (const cause of Object.keys(byCause)) expect(missingCauses.some((label) => cause === label || cause.startsWith(`${label} (`)), cause).toBe(true);
    expect(Object.values(byCause).reduce((a, b) => a + b, 0)).toBe(result.ack.missing + result.ack.unknown);
    expect(result.ack.delivered).toBeGreaterThan(50);
    expect(run.stderr).toMatch(/a consumer now receives and deletes/);
    expect(run.stderr).toMatch(/gate fail \(ack mode\): .*; missing by cause: http-403/);
    // What the consumer took is what the demo counts: nothing lost, direct all in SQS.
    expect(result.totals.lost).toBe(0);
    const direct = result.phases.find((p: { label: string }) => p.label === 'direct');
    expect(direct.arrivedInSqs).toBe(direct.sent);
    expect(run.stdout + run.stderr).not.toMatch(/0101234/);
    for (const p of result.processes) expect(alive(p.pid), `${p.name} (${p.pid}) stopped`).toBe(false);
  }, 200_000);
});
