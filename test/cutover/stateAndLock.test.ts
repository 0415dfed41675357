/**
 * The cutover's bookkeeping without a running nginx (the throwaway `nginx -t`
 * still runs for real): the lock, the atomic state file, --dry-run, the plan,
 * and every bad input with its exit code.
 */
import { describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, readFile, readdir, writeFile, stat } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import {
  runCutoverAdvance,
  runCutoverRollback,
  runCutoverPlan,
  runCutoverStatus,
  formatCutoverPlanText,
  formatCutoverStatusText,
  formatCutoverMoveText,
} from '../../src/commands/cutover.js';
import { ExitCode, UsageError, CheckFailedError } from '../../src/errors.js';
import { StateLockedError, lockPathFor } from '../../src/fs/stateLock.js';
import { writeState, parseState, initialState, withTransition, type CutoverState } from '../../src/cutover/state.js';
import { decideAdvance, decideRollback, renderedHash, filesDiff } from '../../src/cutover/plan.js';
import { probeResultToGate, type GateResult } from '../../src/cutover/gates.js';
import { exampleConfig, withValue, writeConfigFile } from '../support/config.js';
import { gateOf, passGate } from '../support/cutoverStack.js';

async function workspace(phase = 'off', edit: (tree: Record<string, unknown>) => Record<string, unknown> = (t) => t) {
  const dir = await mkdtemp(join(tmpdir(), 'mirror-cutover-unit-'));
  const config = await writeConfigFile(edit(withValue(exampleConfig(), 'phase', phase)), dir);
  return { dir, config, state: join(dir, '.mirror', 'state.json'), nginxDir: join(dir, 'nginx') };
}

/** Every file under dir (the lock may leave the empty state directory it made). */
async function listTree(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => !e.isDirectory()).map((e) => join(e.parentPath, e.name).slice(dir.length + 1)).sort();
}

function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

describe('the lock: two advance/rollback runs on one state', () => {
  it('refuses the second run while the first holds the lock, naming the lock file and the pid', async () => {
    const w = await workspace();
    const inGate = deferred<void>();
    const release = deferred<GateResult>();
    const first = runCutoverAdvance({ config: w.config, state: w.state, nginxDir: w.nginxDir, gateImpl: async () => (inGate.resolve(), release.promise) });
    await inGate.promise;
    const second = await runCutoverAdvance({ config: w.config, state: w.state, nginxDir: w.nginxDir, gateImpl: passGate }).catch((e: unknown) => e);
    expect(second).toBeInstanceOf(StateLockedError);
    expect((second as StateLockedError).exitCode).toBe(ExitCode.checkFailed);
    expect((second as Error).message).toContain(lockPathFor(w.state));
    expect((second as Error).message).toContain(`pid ${process.pid}`);
    const rollback = await runCutoverRollback({ config: w.config, state: w.state, nginxDir: w.nginxDir }).catch((e: unknown) => e);
    expect(rollback).toBeInstanceOf(StateLockedError);

    release.resolve(gateOf('pass'));
    const done = await first;
    expect(done.exitCode, formatCutoverMoveText(done)).toBe(ExitCode.ok);
    const state = parseState(await readFile(w.state, 'utf8'), w.state);
    expect(state.history.map((h) => `${h.from}->${h.to}`)).toEqual(['off->shadow']);
    // Released: the lock file is gone and the next run goes ahead.
    await expect(stat(lockPathFor(w.state))).rejects.toMatchObject({ code: 'ENOENT' });
    const next = await runCutoverAdvance({ config: w.config, state: w.state, nginxDir: w.nginxDir, gateImpl: passGate });
    expect(next.to).toBe('shadow-domain');
  });

  it('takes over a stale lock whose pid is gone, and says so', async () => {
    const w = await workspace();
    const dead = await execa('sh', ['-c', 'echo $$']);
    const deadPid = Number(dead.stdout.trim());
    await mkdir(join(w.dir, '.mirror'), { recursive: true });
    await writeFile(lockPathFor(w.state), JSON.stringify({ pid: deadPid, host: hostname(), startedAt: '2026-01-01T00:00:00Z', command: 'mirror cutover advance', token: 'old' }));
    const result = await runCutoverAdvance({ config: w.config, state: w.state, nginxDir: w.nginxDir, gateImpl: passGate });
    expect(result.exitCode).toBe(ExitCode.ok);
    expect(result.lock?.tookOverStaleFrom).toBe(deadPid);
    expect(result.notes.join('\n')).toMatch(new RegExp(`took over a stale lock .*state\\.json\\.lock left by pid ${deadPid}`));
    await expect(stat(lockPathFor(w.state))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('takes over a lock with its own pid that it does not hold: a previous process had the pid (containers and reboots reuse pids)', async () => {
    const w = await workspace();
    await mkdir(join(w.dir, '.mirror'), { recursive: true });
    await writeFile(lockPathFor(w.state), JSON.stringify({ pid: process.pid, host: hostname(), startedAt: '2026-01-01T00:00:00Z', command: 'mirror cutover advance', token: 'before-reboot' }));
    const result = await runCutoverAdvance({ config: w.config, state: w.state, nginxDir: w.nginxDir, gateImpl: passGate });
    expect(result.exitCode).toBe(ExitCode.ok);
    expect(result.lock?.tookOverStaleFrom).toBe(process.pid);
  });
});

describe('the state file', () => {
  it('is written whole or not at all: a reader racing 40 rewrites of a 1 MB state never sees a partial file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mirror-state-'));
    const path = join(dir, 'state.json');
    let state: CutoverState = initialState('off');
    for (let i = 0; i < 2500; i++) {
      state = withTransition(state, {
        at: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
        from: 'off',
        to: 'shadow',
        kind: 'forced',
        renderedHash: `sha256:${'0'.repeat(64)}`,
        gate: { verdict: 'fail', figures: { parity: 0.5, judged: i }, summary: 'x'.repeat(200) },
        forcedBy: 'tester',
        reason: `reason ${i}`,
        nginxDir: '/etc/nginx/mirror',
        reloaded: true,
      });
    }
    await writeState(path, state);
    let reads = 0;
    let writing = true;
    const reader = (async () => {
      while (writing) {
        const text = await readFile(path, 'utf8');
        expect(() => parseState(text, path)).not.toThrow();
        reads++;
      }
    })();
    for (let i = 0; i < 40; i++) await writeState(path, { ...state, phase: i % 2 === 0 ? 'shadow' : 'off' });
    writing = false;
    await reader;
    expect(reads).toBeGreaterThan(0);
    expect((await stat(path)).size).toBeGreaterThan(1_000_000);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await readdir(dir)).toEqual(['state.json']);
  });

  it('a damaged state file is exit 2 naming the field and what was expected', async () => {
    const w = await workspace();
    await writeState(w.state, initialState('off'));
    await writeFile(w.state, JSON.stringify({ version: 1, phase: 'halfway', history: [] }));
    const error = await runCutoverStatus({ config: w.config, state: w.state, gate: false }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).details.join('\n')).toMatch(/^phase: expected one of off, shadow, shadow-domain, primary, direct, got "halfway"$/);
    await writeFile(w.state, '{"version":1,');
    const truncated = await runCutoverAdvance({ config: w.config, state: w.state, nginxDir: w.nginxDir, gateImpl: passGate }).catch((e: unknown) => e);
    expect(truncated).toBeInstanceOf(UsageError);
    expect((truncated as Error).message).toMatch(/state\.json: not a cutover state file: expected JSON/);
  });
});

describe('advance and rollback without touching anything', () => {
  it('--dry-run prints the gate and the diff and writes nothing: no files, no state, no backup', async () => {
    const w = await workspace();
    const result = await runCutoverAdvance({ config: w.config, state: w.state, nginxDir: w.nginxDir, dryRun: true, gateImpl: async () => gateOf('pass', { matched: 200 }) });
    expect(result.exitCode).toBe(ExitCode.ok);
    expect(result.outcome).toBe('dry-run');
    expect(result.diff).toContain('+    mirror /_mirror/bizppurio;');
    expect(result.diff).toContain('+++ b/mirror-bizppurio.server.conf');
    const text = formatCutoverMoveText(result);
    expect(text).toMatch(/^DRY RUN: advance off -> shadow would go ahead; nothing was changed\n  gate: PASS: test gate says pass/);
    expect(text).toContain('+    mirror_request_body on;');
    expect(await listTree(w.dir)).toEqual(['mirror.yaml']);
    // A dry run whose gate fails says what the real run would: exit 1, still nothing written.
    const refused = await runCutoverAdvance({ config: w.config, state: w.state, nginxDir: w.nginxDir, dryRun: true, gateImpl: async () => gateOf('fail') });
    expect(refused.exitCode).toBe(ExitCode.checkFailed);
    expect(await listTree(w.dir)).toEqual(['mirror.yaml']);
  });

  it('the default shadow gate validates for real and is inconclusive (exit 4) until a probe is supplied', async () => {
    const w = await workspace();
    const result = await runCutoverAdvance({ config: w.config, state: w.state, nginxDir: w.nginxDir });
    expect(result.exitCode).toBe(ExitCode.inconclusive);
    expect(result.gate).toMatchObject({ verdict: 'inconclusive', figures: { nginxTest: 'passed', lintErrors: 0, probe: 'not run' } });
    expect(result.gate!.summary).toMatch(/no probe was run: a probe must arrive in SQS/);
    expect(await listTree(w.dir)).toEqual(['mirror.yaml']);
  });

  it('a render nginx -t refuses is never written, even with --force', async () => {
    const w = await workspace('off', (t) => withValue(t, 'apiGateway.trustedCertificate', '/nonexistent/ca.pem'));
    const result = await runCutoverAdvance({ config: w.config, state: w.state, nginxDir: w.nginxDir, force: true, reason: 'try anyway', gateImpl: passGate });
    expect(result.exitCode).toBe(ExitCode.checkFailed);
    expect(result.outcome).toBe('refused');
    expect(result.problems.join('\n')).toMatch(/does not validate[\s\S]*\[emerg\].*\/nonexistent\/ca\.pem/);
    expect(await listTree(w.dir)).toEqual(['mirror.yaml']);
  });

  it('writes the include files into a fresh --nginx-dir, backs up nothing that was not there, and rolls back to the same bytes', async () => {
    const w = await workspace();
    const first = await runCutoverAdvance({ config: w.config, state: w.state, nginxDir: w.nginxDir, gateImpl: passGate });
    expect(first.exitCode).toBe(ExitCode.ok);
    expect(first.notes.join('\n')).toMatch(/has no include files yet/);
    expect(first.notes.join('\n')).toMatch(/nginx was not reloaded/);
    const names = (await readdir(w.nginxDir)).filter((n) => !n.startsWith('.')).sort();
    expect(names).toEqual(['mirror-bizppurio.http.conf', 'mirror-bizppurio.server.conf']);
    // Backups are owner-only; the include directory itself is left as mkdir makes it.
    expect((await stat(join(w.nginxDir, '.mirror-backup'))).mode & 0o077).toBe(0);
    expect((await stat(w.nginxDir)).mode & 0o777).toBe(0o777 & ~process.umask());
    const back = await runCutoverRollback({ config: w.config, state: w.state, nginxDir: w.nginxDir });
    expect(back.to).toBe('off');
    const again = await runCutoverAdvance({ config: w.config, state: w.state, nginxDir: w.nginxDir, gateImpl: passGate });
    expect(again.renderedHash).toBe(first.renderedHash);
    const contents = await Promise.all(names.map((n) => readFile(join(w.nginxDir, n), 'utf8')));
    expect(renderedHash(names.map((name, i) => ({ name, contents: contents[i]! })))).toBe(first.renderedHash);
  });
});

describe('bad input: exit 2 naming the flag and what was expected', () => {
  const cases: [string, (w: Awaited<ReturnType<typeof workspace>>) => Promise<unknown>, RegExp][] = [
    ['--to an unknown phase', (w) => runCutoverAdvance({ config: w.config, state: w.state, nginxDir: w.nginxDir, to: 'live', gateImpl: passGate }), /^--to "live": expected one of off, shadow, shadow-domain, primary, direct$/],
    ['--to an earlier phase on advance', (w) => runCutoverAdvance({ config: w.config, state: w.state, nginxDir: w.nginxDir, to: 'off', gateImpl: passGate }), /--to off is not after the current phase off.*use rollback/],
    ['a skip without --force', (w) => runCutoverAdvance({ config: w.config, state: w.state, nginxDir: w.nginxDir, to: 'primary', gateImpl: passGate }), /skips shadow, shadow-domain: that needs --force --reason TEXT/],
    ['--force without --reason', (w) => runCutoverAdvance({ config: w.config, state: w.state, nginxDir: w.nginxDir, force: true, gateImpl: passGate }), /--force needs --reason TEXT/],
    ['--reason without --force', (w) => runCutoverAdvance({ config: w.config, state: w.state, nginxDir: w.nginxDir, reason: 'because', gateImpl: passGate }), /--reason is only recorded with --force/],
    ['rollback from the first phase', (w) => runCutoverRollback({ config: w.config, state: w.state, nginxDir: w.nginxDir }), /already in the first phase \(off\)/],
    ['--soak that is not a duration', (w) => runCutoverAdvance({ config: w.config, state: w.state, nginxDir: w.nginxDir, soak: 'a while', gateImpl: passGate }), /^--soak a while: expected a duration/],
    ['--pid-file without --reload', (w) => runCutoverAdvance({ config: w.config, state: w.state, nginxDir: w.nginxDir, pidFile: '/run/nginx.pid', gateImpl: passGate }), /^--pid-file only applies with --reload$/],
  ];
  for (const [what, run, message] of cases) {
    it(what, async () => {
      const w = await workspace();
      const error = await run(w).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UsageError);
      expect((error as UsageError).exitCode).toBe(ExitCode.usage);
      expect((error as Error).message).toMatch(message);
      expect(error).not.toBeInstanceOf(CheckFailedError);
      expect(await listTree(w.dir)).toEqual(['mirror.yaml']);
    });
  }

  it('a phase the config cannot render (no custom domain) is exit 2 naming apiGateway.customDomain', async () => {
    const w = await workspace('shadow', (t) => withValue(t, 'apiGateway.customDomain', undefined));
    const error = await runCutoverAdvance({ config: w.config, state: w.state, nginxDir: w.nginxDir, gateImpl: passGate }).catch((e: unknown) => e);
    expect((error as UsageError).exitCode).toBe(ExitCode.usage);
    expect((error as UsageError).details.join('\n')).toMatch(/apiGateway\.customDomain: is required for the shadow-domain phase/);
  });
});

describe('plan and status', () => {
  it('plan: every phase with its traffic, its gate and the diff from the one before', async () => {
    const w = await workspace();
    const plan = await runCutoverPlan({ config: w.config, state: w.state });
    expect(plan.phases.map((p) => p.phase)).toEqual(['off', 'shadow', 'shadow-domain', 'primary', 'direct']);
    expect(plan.current).toBe('off');
    expect(plan.phases[0]!.diffFromPrevious).toBe('');
    expect(plan.phases[1]!.diffFromPrevious).toContain('+    mirror /_mirror/bizppurio;');
    expect(plan.phases[2]!.diffFromPrevious).toContain('+    set $mirror_bizppurio_target "callbacks.example.com";');
    expect(plan.phases[3]!.diffFromPrevious).toContain('+location = /_mirror/bizppurio_origin {');
    expect(plan.phases[2]!.gate).toBe('parity in the shadow phase, over the soak window, at least 0.999 with at least 100 callbacks judged');
    expect(new Set(plan.phases.map((p) => p.renderedHash)).size).toBe(5);
    const text = formatCutoverPlanText(plan);
    expect(text).toMatch(/^Cutover plan \(current phase: off, from the config: no state file yet\)/);
    expect(text).toMatch(/4\. primary\n {3}traffic: API Gateway \(custom domain\) answers the vendor/);
  });

  it('plan without a custom domain: the phases that need one say which key to set', async () => {
    const w = await workspace('off', (t) => withValue(t, 'apiGateway.customDomain', undefined));
    const plan = await runCutoverPlan({ config: w.config, state: w.state });
    expect(plan.phases.filter((p) => p.problems).map((p) => p.phase)).toEqual(['shadow-domain', 'primary', 'direct']);
    expect(formatCutoverPlanText(plan)).toContain('cannot render with this config: apiGateway.customDomain: is required for the shadow-domain phase');
  });

  it('status: the phase, since when, the last transition and the live gate, with the gate\'s exit code', async () => {
    const w = await workspace();
    const at = new Date('2026-11-25T06:00:00Z');
    await runCutoverAdvance({ config: w.config, state: w.state, nginxDir: w.nginxDir, gateImpl: passGate, now: () => at });
    let seenSince: string | undefined;
    const status = await runCutoverStatus({
      config: w.config,
      state: w.state,
      gateImpl: async (ctx) => ((seenSince = ctx.since), gateOf('inconclusive', { judged: 12 })),
    });
    expect(status.exitCode).toBe(ExitCode.inconclusive);
    expect(seenSince).toBe('2026-11-25T06:00:00.000Z');
    expect(formatCutoverStatusText(status)).toMatch(
      /^phase: shadow since 2026-11-25T06:00:00.000Z\nlast: advance off -> shadow at 2026-11-25T06:00:00.000Z \(1 transition\)\nnext: shadow-domain; gate: parity in the shadow phase.*\n {2}gate: INCONCLUSIVE: test gate says inconclusive\n {4}parity 0.5  judged 12$/,
    );
    const noGate = await runCutoverStatus({ config: w.config, state: w.state, gate: false });
    expect(noGate.exitCode).toBe(ExitCode.ok);
    expect(noGate.next?.gate).toBeUndefined();
  });
});

describe('transition rules (pure)', () => {
  it('advance goes one phase on; --to later skips; rollback goes one back or --to any earlier', () => {
    expect(decideAdvance('off', undefined)).toEqual({ ok: true, to: 'shadow', skipped: [] });
    expect(decideAdvance('shadow', 'direct')).toEqual({ ok: true, to: 'direct', skipped: ['shadow-domain', 'primary'] });
    expect(decideAdvance('direct', undefined)).toMatchObject({ ok: false, reason: expect.stringMatching(/last phase/) });
    expect(decideRollback('primary', undefined)).toEqual({ ok: true, to: 'shadow-domain', skipped: [] });
    expect(decideRollback('primary', 'off')).toEqual({ ok: true, to: 'off', skipped: ['shadow', 'shadow-domain'] });
    expect(decideRollback('shadow', 'primary')).toMatchObject({ ok: false });
  });

  it('renderedHash ignores file order and sees any byte; filesDiff is empty for equal files', () => {
    const a = { name: 'a.conf', contents: 'x\n' };
    const b = { name: 'b.conf', contents: 'y\n' };
    expect(renderedHash([a, b])).toBe(renderedHash([b, a]));
    expect(renderedHash([a, b])).not.toBe(renderedHash([a, { ...b, contents: 'y \n' }]));
    expect(renderedHash([a, b])).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(filesDiff([a, b], [a, b], 'x', 'y')).toBe('');
    expect(filesDiff([a], [a, b], 'x', 'y')).toContain('+y');
  });
});

describe('the probe as the shadow gate', () => {
  const probe = (roundTripMs: number | null) => ({ seq: 1, refKey: 'mirror-probe-x-1', status: 200, roundTripMs, sentTimestampLagMs: null });
  it('passes only when every probe arrived', () => {
    expect(probeResultToGate({ verdict: 'arrived', sent: 2, arrived: 2, url: 'https://gw/dev/x', timeoutMs: 30_000, probes: [probe(40), probe(75)] })).toEqual({
      verdict: 'pass',
      figures: { sent: 2, arrived: 2, maxRoundTripMs: 75 },
      summary: '2 of 2 probes sent to https://gw/dev/x arrived in SQS',
    });
    expect(probeResultToGate({ verdict: 'missing', sent: 2, arrived: 1, url: 'https://gw/dev/x', timeoutMs: 30_000, probes: [probe(40), probe(null)] })).toMatchObject({
      verdict: 'fail',
      summary: '1 of 2 probes sent to https://gw/dev/x arrived in SQS within 30000 ms',
    });
  });
});
