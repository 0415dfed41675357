/**
 * Running one of mirror's own entry points (a `*Main.ts`) in a node process of its
 * own: the built .js next to the caller, or, when the caller itself runs from
 * sources (tests, `tsx bench/...`), the .ts through tsx's loader.
 */
import { fileURLToPath } from 'node:url';

/** The node arguments that run `entry` (a path without extension, relative to `callerUrl`). */
export function nodeEntryArgs(entry: string, callerUrl: string): string[] {
  const fromSources = callerUrl.endsWith('.ts');
  const script = fileURLToPath(new URL(`${entry}.${fromSources ? 'ts' : 'js'}`, callerUrl));
  return fromSources ? ['--import', import.meta.resolve('tsx/esm'), script] : [script];
}
