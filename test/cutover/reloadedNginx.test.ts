/**
 * `mirror cutover advance|rollback` against a running real nginx: the files it
 * writes, the reload it confirms, the backup it restores. The running nginx is
 * the judge: a callback sent after each step shows which phase is live.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { readFile, readdir, appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import { userInfo } from 'node:os';
import { runCutoverAdvance, runCutoverRollback, runCutoverStatus, formatCutoverMoveText } from '../../src/commands/cutover.js';
import { ExitCode } from '../../src/errors.js';
import { renderedHash } from '../../src/cutover/plan.js';
import { parseState } from '../../src/cutover/state.js';
import { startCutoverStack, gateOf, passGate, type CutoverStack } from '../support/cutoverStack.js';

let stacks: CutoverStack[] = [];
afterEach(async () => {
  for (const s of stacks) await s.stop();
  stacks = [];
});

async function start(): Promise<CutoverStack> {
  const s = await startCutoverStack();
  stacks.push(s);
  return s;
}

function moveOptions(s: CutoverStack) {
  return { config: s.configPath, state: s.statePath, nginxDir: s.nginxDir, ...s.live };
}

async function state(s: CutoverStack) {
  return parseState(await readFile(s.statePath, 'utf8'), s.statePath);
}

describe('cutover through a running nginx', () => {
  it('rolls back to off, advances to shadow and shadow-domain with reloads that take, and rolls back byte for byte', async () => {
    const s = await start();
    const timings: Record<string, number> = {};
    expect(await s.callbackPhase(1)).toEqual({ phase: 'shadow', sentToGateway: true, status: 200 });
    await s.stack.target!.waitForCount(1);

    // shadow -> off: the mirror stops.
    let t = performance.now();
    const toOff = await runCutoverRollback(moveOptions(s));
    timings.rollbackWithReloadMs = performance.now() - t;
    expect(toOff.exitCode, formatCutoverMoveText(toOff)).toBe(ExitCode.ok);
    expect(toOff.reload?.took).toBe(true);
    expect(toOff.reload!.workersAfter.some((p) => !toOff.reload!.workersBefore.includes(p))).toBe(true);
    expect(await s.callbackPhase(2)).toEqual({ phase: 'off', sentToGateway: false, status: 200 });
    expect(s.stack.target!.count()).toBe(1);
    const offFiles = await s.includeFiles();
    expect(renderedHash(Object.entries(offFiles).map(([name, contents]) => ({ name, contents })))).toBe(toOff.renderedHash);

    // off -> shadow through the default gate shape: real validate + lint, and a probe the caller supplies.
    let probed = 0;
    t = performance.now();
    const toShadow = await runCutoverAdvance({
      ...moveOptions(s),
      probe: async () => {
        probed++;
        return { verdict: 'pass', figures: { sent: 1, arrived: 1, latencyMs: 42 }, summary: '1 of 1 arrived' };
      },
    });
    timings.advanceWithGateAndReloadMs = performance.now() - t;
    expect(toShadow.exitCode, formatCutoverMoveText(toShadow)).toBe(ExitCode.ok);
    expect(probed).toBe(1);
    expect(toShadow.gate).toMatchObject({ verdict: 'pass', figures: { nginxTest: 'passed', lintErrors: 0, 'probe.arrived': 1 } });
    expect(toShadow.reload?.took).toBe(true);
    expect(await s.callbackPhase(3)).toEqual({ phase: 'shadow', sentToGateway: true, status: 200 });
    await s.stack.target!.waitForCount(2);
    expect(s.stack.target!.requests.at(-1)!.headers.host).toBe('a1b2c3d4e5.execute-api.ap-northeast-2.amazonaws.com');
    const shadowFiles = await s.includeFiles();

    // shadow -> shadow-domain: the mirror now goes to the custom domain.
    t = performance.now();
    const toDomain = await runCutoverAdvance({ ...moveOptions(s), gateImpl: passGate });
    timings.advanceWithReloadMs = performance.now() - t;
    expect(toDomain.exitCode, formatCutoverMoveText(toDomain)).toBe(ExitCode.ok);
    expect(await s.callbackPhase(4)).toEqual({ phase: 'shadow-domain', sentToGateway: true, status: 200 });
    await s.stack.target!.waitForCount(3);
    expect(s.stack.target!.requests.at(-1)!.headers.host).toBe('callbacks.example.com');

    // Rollback: the files on disk are byte for byte the ones before the advance, and nginx serves shadow again.
    const back = await runCutoverRollback(moveOptions(s));
    expect(back.exitCode, formatCutoverMoveText(back)).toBe(ExitCode.ok);
    expect(await s.includeFiles()).toEqual(shadowFiles);
    expect(await s.callbackPhase(5)).toEqual({ phase: 'shadow', sentToGateway: true, status: 200 });
    await s.stack.target!.waitForCount(4);
    expect(s.stack.target!.requests.at(-1)!.headers.host).toBe('a1b2c3d4e5.execute-api.ap-northeast-2.amazonaws.com');

    // The state tells the whole story, with the hash of each render written.
    const st = await state(s);
    expect(st.phase).toBe('shadow');
    expect(st.history.map((h) => `${h.kind}:${h.from}->${h.to}`)).toEqual([
      'rollback:shadow->off',
      'advance:off->shadow',
      'advance:shadow->shadow-domain',
      'rollback:shadow-domain->shadow',
    ]);
    expect(st.history.map((h) => h.renderedHash)).toEqual([toOff.renderedHash, toShadow.renderedHash, toDomain.renderedHash, toShadow.renderedHash]);
    expect(st.history[1]!.gate?.verdict).toBe('pass');
    expect(st.history[0]!.gate).toBeUndefined();
    expect(st.history.every((h) => h.reloaded)).toBe(true);
    expect(st.since).toBe(st.history.at(-1)!.at);
    // Every write kept a backup of what it replaced; the first one holds the shadow files.
    const backups = (await readdir(join(s.nginxDir, '.mirror-backup'))).sort();
    expect(backups).toHaveLength(4);
    for (const [name, contents] of Object.entries(shadowFiles)) {
      expect(await readFile(join(s.nginxDir, '.mirror-backup', backups[0]!, name), 'utf8')).toBe(contents);
    }
    console.info(`cutover timings: ${JSON.stringify(Object.fromEntries(Object.entries(timings).map(([k, v]) => [k, Math.round(v)])))}`);
  });

  it('a failing gate refuses the advance and leaves the files, the state and the running nginx untouched', async () => {
    const s = await start();
    const before = await s.snapshot();
    const workers = await s.workers();
    const errorLog = await readFile(s.live.errorLog, 'utf8');

    const failed = await runCutoverAdvance({ ...moveOptions(s), gateImpl: async () => gateOf('fail', { missing: 3 }) });
    expect(failed.exitCode).toBe(ExitCode.checkFailed);
    expect(failed.outcome).toBe('refused');
    expect(failed.problems.join('\n')).toMatch(/the gate into shadow-domain is fail; nothing was written/);
    expect(formatCutoverMoveText(failed)).toMatch(/^REFUSED: advance shadow -> shadow-domain\n  gate: FAIL: test gate says fail\n {4}parity 0.5  judged 200  missing 3/);

    const inconclusive = await runCutoverAdvance({ ...moveOptions(s), gateImpl: async () => gateOf('inconclusive') });
    expect(inconclusive.exitCode).toBe(ExitCode.inconclusive);

    expect(await s.snapshot()).toEqual(before);
    expect(await s.workers()).toEqual(workers);
    expect(await readFile(s.live.errorLog, 'utf8')).toBe(errorLog);
    await expect(readFile(s.statePath)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await s.callbackPhase(1)).toEqual({ phase: 'shadow', sentToGateway: true, status: 200 });
    // status reports the same live gate and its exit code.
    const status = await runCutoverStatus({ config: s.configPath, state: s.statePath, gateImpl: async () => gateOf('fail') });
    expect(status).toMatchObject({ exitCode: ExitCode.checkFailed, phase: 'shadow', stateExists: false, next: { phase: 'shadow-domain', gate: { verdict: 'fail' } } });
  });

  it('a live config that nginx -t refuses after the write: the backup is restored and nginx never reloads', async () => {
    const s = await start();
    const before = await s.snapshot();
    const workers = await s.workers();
    const failed = await runCutoverAdvance({
      ...moveOptions(s),
      gateImpl: passGate,
      // Something else breaks the live config between the throwaway check and the live one.
      afterWrite: async (paths) => appendFile(paths.find((p) => p.endsWith('.server.conf'))!, '\nnot_a_directive on;\n'),
    });
    expect(failed.exitCode).toBe(ExitCode.checkFailed);
    expect(failed.outcome).toBe('restored');
    expect(failed.liveTest?.ok).toBe(false);
    expect(failed.problems.join('\n')).toMatch(/unknown directive "not_a_directive"/);
    expect(failed.problems.join('\n')).toMatch(/restored the previous files from .*\.mirror-backup/);
    expect(failed.reload).toBeUndefined();
    const after = await s.snapshot();
    // The include files are back byte for byte; the only new files are the backup's.
    expect(Object.fromEntries(Object.entries(after).filter(([k]) => !k.startsWith('.mirror-backup/')))).toEqual(before);
    expect(Object.keys(after).filter((k) => k.startsWith('.mirror-backup/'))).toHaveLength(2);
    expect(await s.workers()).toEqual(workers);
    await expect(readFile(s.statePath)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await s.callbackPhase(1)).toMatchObject({ phase: 'shadow' });
  });

  it('a reload nginx refuses ([emerg] in the error log, old workers kept): restored, reloaded again, and said so', async () => {
    const s = await start();
    const before = await s.includeFiles();
    const master = await s.masterPid();
    const failed = await runCutoverAdvance({
      ...moveOptions(s),
      gateImpl: passGate,
      // No pre-test and a bare SIGHUP, so the broken file reaches the master itself.
      testCommand: 'true',
      reloadCommand: `kill -HUP ${master}`,
      afterWrite: async (paths) => appendFile(paths.find((p) => p.endsWith('.server.conf'))!, '\nnot_a_directive on;\n'),
    });
    expect(failed.outcome, formatCutoverMoveText(failed)).toBe('restored');
    expect(failed.reload?.took).toBe(false);
    expect(failed.reload?.failures.join('\n')).toMatch(/\[emerg\].*unknown directive "not_a_directive"/);
    expect(failed.reload?.workersAfter).toEqual(failed.reload?.workersBefore);
    expect(failed.restore?.reload?.took).toBe(true);
    expect(failed.problems.join('\n')).toMatch(/reloaded nginx with the restored files/);
    expect(await s.includeFiles()).toEqual(before);
    expect(await s.callbackPhase(1)).toEqual({ phase: 'shadow', sentToGateway: true, status: 200 });
  });

  it('--reload with no running nginx refuses before writing: exit 3', async () => {
    const s = await start();
    const before = await s.snapshot();
    const result = await runCutoverAdvance({ ...moveOptions(s), pidFile: join(s.stack.harness.prefix, 'no-such.pid'), gateImpl: passGate });
    expect(result.exitCode).toBe(ExitCode.missingDependency);
    expect(result.problems[0]).toMatch(/cannot read the nginx pid file .*no-such\.pid.*nothing was written/);
    expect(await s.snapshot()).toEqual(before);
  });

  it('a forced skip is recorded with its reason, the user, and the failed gate', async () => {
    const s = await start();
    const forced = await runCutoverAdvance({
      ...moveOptions(s),
      to: 'primary',
      force: true,
      reason: 'vendor deadline; parity watched by hand',
      gateImpl: async () => gateOf('fail'),
    });
    expect(forced.exitCode, formatCutoverMoveText(forced)).toBe(ExitCode.ok);
    expect(forced.skipped).toEqual(['shadow-domain']);
    expect(formatCutoverMoveText(forced)).toMatch(/^FORCED ADVANCE DONE: shadow -> primary/);
    const st = await state(s);
    expect(st.history).toHaveLength(1);
    expect(st.history[0]).toMatchObject({
      kind: 'forced',
      from: 'shadow',
      to: 'primary',
      forcedBy: userInfo().username,
      reason: 'vendor deadline; parity watched by hand',
      gate: { verdict: 'fail' },
    });
    // primary is live: API Gateway answers, so the origin gets only the mirror copy back.
    expect(await s.callbackPhase(1)).toMatchObject({ phase: 'primary', status: 200 });
  });
});
