/**
 * Reads the files given to `mirror lint`, expands `include` in place (so every
 * directive keeps the file and line it came from), and accepts `nginx -T` dumps:
 * a dump's `# configuration file PATH:` sections become virtual files that its
 * includes resolve to before the disk is consulted.
 */
import { readFile, readdir } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { ConfigSyntaxError, parseConfig, type Directive } from './parse.js';

export interface LoadedConfig {
  /** The path as given. */
  root: string;
  tree: Directive[];
  /** Every file read, the root first. */
  files: string[];
}

const dumpHeader = /^# configuration file (.+):$/gm;

export async function loadNginxConfig(path: string): Promise<LoadedConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(`cannot read ${path}: ${code === 'EISDIR' ? 'it is a directory' : code ?? String(error)}; expected an nginx config file or an nginx -T dump`);
  }
  const virtual = splitDump(text);
  const rootName = virtual ? virtual.keys().next().value! : path;
  const rootText = virtual ? virtual.get(rootName)! : text;
  const files: string[] = [];
  const confDir = dirname(virtual ? rootName : resolve(path));
  const tree = await expand(rootName, rootText, { virtual, confDir, files, stack: [] });
  return { root: path, tree, files };
}

/** An `nginx -T` dump as path -> text, in dump order; undefined for a plain file. */
function splitDump(text: string): Map<string, string> | undefined {
  const headers = [...text.matchAll(dumpHeader)];
  if (headers.length === 0) return undefined;
  const files = new Map<string, string>();
  headers.forEach((h, i) => {
    const start = h.index! + h[0].length + 1;
    const end = i + 1 < headers.length ? headers[i + 1]!.index! : text.length;
    files.set(h[1]!, text.slice(start, end));
  });
  return files;
}

interface ExpandState {
  virtual: Map<string, string> | undefined;
  confDir: string;
  files: string[];
  stack: string[];
}

async function expand(file: string, text: string, state: ExpandState): Promise<Directive[]> {
  if (state.stack.includes(file)) throw new UsageError(`include cycle: ${[...state.stack, file].join(' -> ')}`);
  state.files.push(file);
  let parsed: Directive[];
  try {
    parsed = parseConfig(text, file);
  } catch (error) {
    if (error instanceof ConfigSyntaxError) throw new UsageError(`cannot parse ${error.message}`);
    throw error;
  }
  const inner = { ...state, stack: [...state.stack, file] };
  return expandList(parsed, file, inner);
}

async function expandList(list: Directive[], file: string, state: ExpandState): Promise<Directive[]> {
  const out: Directive[] = [];
  for (const d of list) {
    if (d.name === 'include' && !d.block && d.args.length === 1) {
      for (const target of await resolveInclude(d, file, state)) {
        out.push(...(await expand(target.path, target.text, state)));
      }
      continue;
    }
    out.push(d.block ? { ...d, block: await expandList(d.block, file, state) } : d);
  }
  return out;
}

const globChars = /[*?[]/;

async function resolveInclude(d: Directive, from: string, state: ExpandState): Promise<{ path: string; text: string }[]> {
  const pattern = d.args[0]!;
  // nginx resolves a relative include against its conf dir (the main file's dir);
  // we also try the including file's dir, which is what a snippet usually means.
  const bases = isAbsolute(pattern) ? [''] : [state.confDir, dirname(from)];
  const candidates = [...new Set(bases.map((b) => (b ? join(b, pattern) : pattern)))];
  if (state.virtual) {
    const hits = [...state.virtual.keys()].filter((name) => candidates.some((c) => globMatch(c, name)));
    if (hits.length > 0) return hits.map((path) => ({ path, text: state.virtual!.get(path)! }));
  }
  for (const candidate of candidates) {
    if (globChars.test(candidate)) {
      const dir = dirname(candidate);
      const names = await readdir(dir).catch(() => [] as string[]);
      const hits = names.filter((n) => globMatch(basename(candidate), n)).sort();
      if (hits.length > 0) return Promise.all(hits.map(async (n) => ({ path: join(dir, n), text: await readFile(join(dir, n), 'utf8') })));
    } else {
      const text = await readFile(candidate, 'utf8').catch(() => undefined);
      if (text !== undefined) return [{ path: candidate, text }];
    }
  }
  // nginx accepts a glob that matches nothing; a missing plain file is fatal to it.
  if (globChars.test(pattern)) return [];
  throw new UsageError(`${from}:${d.line}: include ${pattern} not found (looked in ${candidates.join(', ')}); expected a readable file`);
}

function globMatch(pattern: string, name: string): boolean {
  const regex = new RegExp(`^${pattern.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')}$`);
  return regex.test(name);
}
