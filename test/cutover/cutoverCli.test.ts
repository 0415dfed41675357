/**
 * `mirror cutover advance|rollback --reload` as a user runs them: the CLI in its own
 * process against a running nginx. The waits for the new workers must keep the
 * process alive until the reload is confirmed.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { startCutoverStack, type CutoverStack } from '../support/cutoverStack.js';
import { runMirror } from '../support/cli.js';

let stacks: CutoverStack[] = [];
afterEach(async () => {
  for (const s of stacks) await s.stop();
  stacks = [];
});

function mirror(s: CutoverStack, args: string[]) {
  const live = ['--reload', '--test-command', s.live.testCommand, '--reload-command', s.live.reloadCommand, '--pid-file', s.live.pidFile, '--error-log', s.live.errorLog, '--nginx', s.live.nginx];
  return runMirror(['cutover', ...args, '-c', s.configPath, '--state', s.statePath, '--nginx-dir', s.nginxDir, ...live, '--json'], { timeout: 120_000 });
}

describe('mirror cutover from the CLI', () => {
  it('rollback and a forced advance with --reload exit 0 once nginx serves the new phase', async () => {
    const s = await startCutoverStack('shadow');
    stacks.push(s);
    const back = await mirror(s, ['rollback']);
    expect(back.exitCode, back.stderr).toBe(0);
    expect(JSON.parse(back.stdout)).toMatchObject({ outcome: 'done', from: 'shadow', to: 'off', reload: { took: true } });
    expect(await s.callbackPhase(1)).toMatchObject({ phase: 'off', sentToGateway: false });
    // Into shadow the gate needs a probe; skip it, recorded with the reason.
    const forward = await mirror(s, ['advance', '--no-probe', '--force', '--reason', 'cli test: no SQS here']);
    expect(forward.exitCode, forward.stderr).toBe(0);
    expect(JSON.parse(forward.stdout)).toMatchObject({ outcome: 'done', to: 'shadow', kind: 'forced', reload: { took: true } });
    expect(await s.callbackPhase(2)).toMatchObject({ phase: 'shadow', sentToGateway: true });
  }, 120_000);
});
