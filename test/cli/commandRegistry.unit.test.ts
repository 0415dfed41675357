/**
 * The command registry: program.ts registers every command module, and every
 * command takes `--json` from the one shared helper (so the text/JSON switch in
 * src/commands/define.ts serves it).
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram, commands } from '../../src/program.js';
import { isSharedJsonOption, type MirrorCommand } from '../../src/commands/define.js';

const commandsDir = fileURLToPath(new URL('../../src/commands/', import.meta.url));

function leaves(command: Command, path: string[] = []): { path: string; command: Command }[] {
  if (command.commands.length === 0) return [{ path: path.join(' '), command }];
  return command.commands.flatMap((sub) => leaves(sub, [...path, sub.name()]));
}

function isMirrorCommand(value: unknown): value is MirrorCommand {
  return typeof value === 'object' && value !== null && typeof (value as MirrorCommand).register === 'function' && typeof (value as MirrorCommand).name === 'string';
}

describe('the command registry', () => {
  it('lists every command that a module in src/commands/ defines, once', async () => {
    const files = (await readdir(commandsDir)).filter((f) => f.endsWith('.ts') && f !== 'define.ts');
    const defining: string[] = [];
    const defined: MirrorCommand[] = [];
    for (const file of files) {
      const text = await readFile(join(commandsDir, file), 'utf8');
      if (!/\bdefine(Command|Group)[<(]/.test(text)) continue;
      defining.push(file);
      const module = (await import(pathToFileURL(join(commandsDir, file)).href)) as Record<string, unknown>;
      defined.push(...Object.values(module).filter(isMirrorCommand));
    }
    // A definition lives in a `<name>.command.ts`, so program.ts can import it without its command's heavy modules.
    expect(defining.sort()).toEqual(defining.filter((f) => f.endsWith('.command.ts')).sort());
    expect(defining.length).toBeGreaterThanOrEqual(10);
    expect(new Set(commands)).toEqual(new Set(defined));
    expect(commands).toHaveLength(new Set(commands).size);
    const names = commands.map((c) => c.name);
    expect(names).toHaveLength(new Set(names).size);
  });

  it('gives every command one --json, the shared one', () => {
    const program = buildProgram(() => undefined);
    const all = leaves(program);
    expect(all.map((l) => l.path)).toEqual(expect.arrayContaining(['init', 'render', 'lint', 'verify', 'sandbox up', 'sandbox status', 'cutover advance', 'cutover rollback', 'doctor']));
    for (const { path, command } of all) {
      const json = command.options.filter((o) => o.long === '--json');
      expect(json, path).toHaveLength(1);
      expect(isSharedJsonOption(json[0]!), path).toBe(true);
    }
  });
});
