/**
 * Reads the files given to `mirror lint`, expands `include` in place (so every
 * directive keeps the file and line it came from), and accepts `nginx -T` dumps:
 * a dump's `# configuration file PATH:` sections become virtual files that its
 * includes resolve to before the disk is consulted.
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { expandIncludeGlob, hasGlob, type GlobFs, type IncludeMatch } from '../fs/glob.js';
import { ConfigSyntaxError, parseConfig, type Directive } from './parse.js';

export interface LoadedConfig {
  /** The path as given. */
  root: string;
  tree: Directive[];
  /** Every file read, the root first. */
  files: string[];
  /** Includes deliberately not read, each with why (this machine's /etc/nginx for a file from elsewhere). */
  notes: string[];
}

const dumpHeader = /^# configuration file (.+):\r?$/gm;

/** Where relative includes resolve, as nginx's `-p` and conf prefix. */
export interface LoadOptions {
  /** nginx's `-p`: a relative `confDir` is taken from here (default: the working directory). */
  prefix?: string;
  /** nginx's conf prefix, the directory of the main nginx.conf (default: the directory of the file given). */
  confDir?: string;
  /** This machine's nginx conf dir, never read for a file given from elsewhere (default /etc/nginx, Debian's). */
  machineConfDir?: string;
  /** Text for the path `-` (standard input); read from the process when absent. */
  stdin?: () => Promise<string>;
}

export async function loadNginxConfig(path: string, options: LoadOptions = {}): Promise<LoadedConfig> {
  let text: string;
  try {
    text = path === '-' ? await (options.stdin ?? readStdin)() : await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(`cannot read ${path}: ${code === 'EISDIR' ? 'it is a directory' : code ?? String(error)}; expected an nginx config file or an nginx -T dump`);
  }
  const virtual = splitDump(text);
  const rootName = virtual ? virtual.keys().next().value! : path;
  const rootText = virtual ? virtual.get(rootName)! : text;
  const files: string[] = [];
  // nginx resolves relative includes against its conf prefix, the directory of the
  // main file (ngx_process_options), never against the including file's directory.
  const confDir = options.confDir
    ? resolve(options.prefix ?? '.', options.confDir)
    : dirname(virtual ? rootName : path === '-' ? resolve('stdin') : resolve(path));
  const notes: string[] = [];
  const machineConfDir = options.machineConfDir ?? '/etc/nginx';
  // A file from elsewhere that includes /etc/nginx/... means its own server's files,
  // not this machine's: reading ours would lint a config nobody wrote.
  const foreign = (include: string) => !virtual && isUnder(include, machineConfDir) && !isUnder(confDir, machineConfDir);
  const tree = await expand(rootName, rootText, { virtual, confDir, confDirGiven: options.confDir !== undefined, files, stack: [], notes, foreign });
  return { root: path, tree, files, notes };
}

/** An `nginx -T` dump as path -> text, in dump order; undefined for a plain file. */
function splitDump(text: string): Map<string, string> | undefined {
  const headers = [...text.matchAll(dumpHeader)];
  if (headers.length === 0) return undefined;
  const files = new Map<string, string>();
  headers.forEach((h, i) => {
    // A CRLF dump: the header's `\r\n` ends it, so the section's first line is line 1.
    const start = h.index! + h[0].length + (text[h.index! + h[0].length] === '\r' ? 2 : 1);
    const end = i + 1 < headers.length ? headers[i + 1]!.index! : text.length;
    files.set(h[1]!, text.slice(start, end));
  });
  return files;
}

interface ExpandState {
  virtual: Map<string, string> | undefined;
  confDir: string;
  confDirGiven: boolean;
  files: string[];
  notes: string[];
  foreign: (include: string) => boolean;
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
  // Most blocks include nothing: keep them as parsed instead of awaiting each directive.
  if (!hasInclude(list)) return list;
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

function hasInclude(list: Directive[]): boolean {
  return list.some((d) => d.name === 'include' || (d.block !== undefined && hasInclude(d.block)));
}

async function resolveInclude(d: Directive, from: string, state: ExpandState): Promise<{ path: string; text: string }[]> {
  const pattern = d.args[0]!;
  const at = `${from}:${d.line}: include ${pattern}`;
  const full = isAbsolute(pattern) ? pattern : join(state.confDir, pattern);
  if (state.foreign(full)) {
    state.notes.push(`${at}: not read: it names the server's own nginx conf dir, and this machine's copy is not that server's; lint the server's \`nginx -T\` output to include it`);
    return [];
  }
  const fs = state.virtual ? dumpFs(state.virtual) : diskFs;
  const matches: IncludeMatch[] = hasGlob(pattern) ? await expandIncludeGlob(full, fs) : [{ path: full, kind: await fs.kind(full) }];
  const out: { path: string; text: string }[] = [];
  for (const match of matches) {
    if (match.kind === 'directory') {
      throw new UsageError(`${at}: ${match.path} is a directory; nginx -t fails reading it (pread() failed (21: Is a directory)); expected the include to match only files`);
    }
    if (match.kind === 'missing') {
      if (state.virtual) {
        throw new UsageError(`${at}: ${match.path} is not in the nginx -T dump (nginx -T prints every file it includes); expected the whole output of nginx -T`);
      }
      const hint = isAbsolute(pattern) || state.confDirGiven
        ? ''
        : `; nginx resolves a relative include against the directory of the main nginx.conf (taken here as ${state.confDir}): lint the main nginx.conf, pass --conf-dir <directory of nginx.conf>, or pipe \`nginx -T\` into \`mirror lint -\``;
      throw new UsageError(`${at}: ${match.path} not found (a missing file or a symlink to nothing; nginx -t fails with open() failed (2: No such file or directory))${hint}`);
    }
    const text = state.virtual
      ? state.virtual.get(match.path)!
      : await readFile(match.path, 'utf8').catch((error: NodeJS.ErrnoException) => {
          throw new UsageError(`${at}: cannot read ${match.path} (${error.code ?? String(error)}); expected a readable file`);
        });
    out.push({ path: match.path, text });
  }
  // nginx accepts a glob that matches nothing.
  return out;
}

const diskFs: GlobFs = {
  list: (dir) => readdir(dir).catch(() => [] as string[]),
  kind: async (path) => {
    const info = await stat(path).catch(() => undefined);
    return info === undefined ? 'missing' : info.isDirectory() ? 'directory' : 'file';
  },
};

/** A dump answers glob questions from its own sections: nginx -T shows every file nginx read, and only those. */
function dumpFs(virtual: Map<string, string>): GlobFs {
  return {
    list: async (dir) => {
      const prefix = dir.endsWith('/') ? dir : `${dir}/`;
      const names = [...virtual.keys()].filter((k) => k.startsWith(prefix)).map((k) => k.slice(prefix.length).split('/')[0]!);
      return [...new Set(names)];
    },
    kind: async (path) => (virtual.has(path) ? 'file' : [...virtual.keys()].some((k) => k.startsWith(`${path}/`)) ? 'directory' : 'missing'),
  };
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function isUnder(path: string, dir: string): boolean {
  const base = dir.endsWith('/') ? dir : `${dir}/`;
  return path === dir || path.startsWith(base);
}
