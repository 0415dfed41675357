/** The cutover state file and include directory come from the config unless a flag says otherwise. */
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCutoverAdvance, runCutoverStatus } from '../../src/commands/cutover.js';
import { exampleConfig, withValue, writeConfigFile } from '../support/config.js';
import { passGate } from '../support/cutoverStack.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

describe('cutover paths from the config', () => {
  it('writes the state to cutover.stateFile and the include files to cutover.nginxDir; flags win over both', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mirror-cutover-paths-'));
    dirs.push(dir);
    const raw = withValue(withValue(exampleConfig(), 'phase', 'off'), 'cutover', { stateFile: join(dir, 'custom', 'state.json'), nginxDir: join(dir, 'includes') });
    const config = await writeConfigFile(raw, dir);
    const advanced = await runCutoverAdvance({ config, gateImpl: passGate });
    expect(advanced.outcome).toBe('done');
    expect(JSON.parse(await readFile(join(dir, 'custom', 'state.json'), 'utf8'))).toMatchObject({ phase: 'shadow' });
    expect((await readdir(join(dir, 'includes'))).filter((n) => n.endsWith('.conf')).sort()).toEqual(['mirror-bizppurio.http.conf', 'mirror-bizppurio.server.conf']);
    expect((await runCutoverStatus({ config, gate: false })).phase).toBe('shadow');
    // A flag overrides the config: a fresh state elsewhere starts from the config's phase again.
    const elsewhere = join(dir, 'other.json');
    expect((await runCutoverStatus({ config, state: elsewhere, gate: false })).phase).toBe('off');
    // And --nginx-dir: the next advance writes its include files there, not into cutover.nginxDir.
    const before = await readFile(join(dir, 'includes', 'mirror-bizppurio.server.conf'), 'utf8');
    const flagged = await runCutoverAdvance({ config, state: elsewhere, nginxDir: join(dir, 'flagged'), gateImpl: passGate });
    expect(flagged).toMatchObject({ outcome: 'done', nginxDir: join(dir, 'flagged') });
    expect(JSON.parse(await readFile(elsewhere, 'utf8'))).toMatchObject({ phase: 'shadow' });
    expect((await readdir(join(dir, 'flagged'))).filter((n) => n.endsWith('.conf')).sort()).toEqual(['mirror-bizppurio.http.conf', 'mirror-bizppurio.server.conf']);
    expect(await readFile(join(dir, 'includes', 'mirror-bizppurio.server.conf'), 'utf8')).toBe(before);
  });
});
