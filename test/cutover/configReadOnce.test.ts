/**
 * One `mirror cutover advance` reads mirror.yaml once and validates it once: the
 * command loads it, and the gate, the check of the target render and the diff
 * against the phase on disk all work on that loaded config. Counted by wrapping
 * the file read and the validator, through both default gates (shadow: render
 * check + probe; later phases: parity), with the real nginx -t.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { runCutoverAdvance } from '../../src/commands/cutover.js';
import { defaultGate } from '../../src/cutover/gates.js';
import { validateConfig } from '../../src/config/validate.js';
import { loadConfig } from '../../src/config/load.js';
import { writeIncludeFiles } from '../../src/cutover/nginxDir.js';
import { renderNginx } from '../../src/render/nginxConfig.js';
import { loadTemplates } from '../../src/render/templates.js';
import { exampleConfig, withValue, writeConfigFile } from '../support/config.js';

vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs/promises')>();
  return { ...actual, readFile: vi.fn(actual.readFile) };
});
vi.mock('../../src/config/validate.js', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../../src/config/validate.js')>();
  return { ...actual, validateConfig: vi.fn(actual.validateConfig) };
});

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mirror-config-once-'));
  vi.mocked(readFile).mockClear();
  vi.mocked(validateConfig).mockClear();
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const readsOf = (path: string) => vi.mocked(readFile).mock.calls.filter(([file]) => file === path).length;

describe('cutover advance and mirror.yaml', () => {
  it('off -> shadow (validate + lint gate, then the render check): one read, one validation', async () => {
    const config = await writeConfigFile(withValue(exampleConfig(), 'phase', 'off'), dir);
    const result = await runCutoverAdvance({ config, state: join(dir, 'state.json'), nginxDir: join(dir, 'nginx'), dryRun: true, force: true, reason: 'counting config reads' });
    expect(result).toMatchObject({ outcome: 'dry-run', from: 'off', to: 'shadow', validation: { ok: true } });
    // No probe was wired: the shadow gate validated the render and could not decide.
    expect(result.gate).toMatchObject({ verdict: 'inconclusive', figures: { nginxTest: 'passed', lintErrors: 0 } });
    expect(readsOf(config)).toBe(1);
    expect(validateConfig).toHaveBeenCalledTimes(1);
  });

  it('shadow -> shadow-domain (the parity gate over the parity log), with files for shadow on disk: one read, one validation', async () => {
    const parityLog = join(dir, 'parity.log');
    const archive = join(dir, 'archive.jsonl');
    await writeFile(parityLog, '');
    await writeFile(archive, '');
    const config = await writeConfigFile(withValue(exampleConfig(), 'phase', 'shadow'), dir);
    const nginxDir = join(dir, 'nginx');
    // Files on disk make the transition compare them with what the config renders for `from`.
    const { config: shadowConfig } = await loadConfig(config);
    await writeIncludeFiles(nginxDir, renderNginx(shadowConfig, 'shadow', await loadTemplates('nginx')).files);
    vi.mocked(readFile).mockClear();
    vi.mocked(validateConfig).mockClear();

    const result = await runCutoverAdvance({
      config,
      state: join(dir, 'state.json'),
      nginxDir,
      dryRun: true,
      force: true,
      reason: 'counting config reads',
      gateImpl: defaultGate({ parityLog: [parityLog], sqsArchive: [archive] }),
    });
    expect(result).toMatchObject({ outcome: 'dry-run', from: 'shadow', to: 'shadow-domain', validation: { ok: true } });
    expect(result.gate).toMatchObject({ verdict: 'inconclusive', figures: { judged: 0 } });
    // The files on disk are what this config renders for shadow: no "edited by hand" note.
    expect(result.notes.join('\n')).not.toMatch(/not what this config renders/);
    expect(readsOf(config)).toBe(1);
    expect(validateConfig).toHaveBeenCalledTimes(1);
  });
});
