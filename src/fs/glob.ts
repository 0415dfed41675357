/** Shell-style globs in the last path segment (`/var/log/nginx/parity.log*`), as nginx and logrotate use them, and the log files they name, by identity. */
import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export const hasGlob = (pattern: string): boolean => /[*?[]/.test(pattern);

function globToRegExp(pattern: string): RegExp {
  return new RegExp(`^${pattern.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')}$`);
}

/** Files matching a pattern whose glob characters are in its last segment, sorted by name. */
export async function expandGlob(pattern: string): Promise<string[]> {
  if (!hasGlob(pattern)) return [pattern];
  const dir = dirname(pattern);
  const regex = globToRegExp(basename(pattern));
  const names = await readdir(dir).catch(() => [] as string[]);
  return names.filter((n) => regex.test(n)).sort().map((n) => join(dir, n));
}

/** A log's identity, device and inode: a rename keeps it, a new file at the same path has another. */
export function fileIdentity(info: { dev: bigint; ino: bigint }): string {
  return `${info.dev}:${info.ino}`;
}

/**
 * The regular files the patterns name now, by identity, each with the path it has
 * and its size: what the log followers (verify --watch, mirror ship) look for each
 * time. Compressed rotations (`.gz`) are complete files, read whole, not followed.
 */
export async function namedLogFiles(patterns: readonly string[]): Promise<Map<string, { path: string; size: number }>> {
  const paths = new Set<string>();
  for (const pattern of patterns) for (const path of await expandGlob(pattern)) if (!path.endsWith('.gz')) paths.add(path);
  const files = new Map<string, { path: string; size: number }>();
  for (const path of paths) {
    const info = await stat(path, { bigint: true }).catch(() => undefined);
    if (info?.isFile()) files.set(fileIdentity(info), { path, size: Number(info.size) });
  }
  return files;
}

/** What an nginx `include` glob matched: the path, and what is there (nginx opens each as a file). */
export interface IncludeMatch {
  path: string;
  kind: 'file' | 'directory' | 'missing';
}

/**
 * nginx's include globs (ngx_open_glob: glob(3) without GLOB_PERIOD): `*`, `?` and
 * `[…]` in any path segment, names starting with `.` skipped unless the segment
 * itself starts with `.`, results in byte order. Directories and dangling symlinks
 * are returned as such, because nginx returns them too and then fails to read them.
 */
export async function expandIncludeGlob(pattern: string, fs: GlobFs): Promise<IncludeMatch[]> {
  const absolute = pattern.startsWith('/');
  const segments = pattern.split('/').filter((s, i) => s !== '' || i === 0);
  let paths = [absolute ? '/' : ''];
  for (const [index, segment] of segments.entries()) {
    if (index === 0 && absolute) continue;
    const next: string[] = [];
    for (const base of paths) {
      if (!hasGlob(segment)) {
        next.push(joinPath(base, segment));
        continue;
      }
      const regex = segmentRegExp(segment);
      const names = await fs.list(base === '' ? '.' : base);
      for (const name of names) {
        if (name.startsWith('.') && !segment.startsWith('.')) continue;
        if (regex.test(name)) next.push(joinPath(base, name));
      }
    }
    paths = next;
  }
  const sorted = [...new Set(paths)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return Promise.all(sorted.map(async (path) => ({ path, kind: await fs.kind(path) })));
}

/** The file-system questions an include glob asks, so dumps can answer from memory. */
export interface GlobFs {
  list(dir: string): Promise<string[]>;
  kind(path: string): Promise<IncludeMatch['kind']>;
}

const joinPath = (base: string, name: string): string => (base === '' ? name : base.endsWith('/') ? `${base}${name}` : `${base}/${name}`);

/** One glob segment as a RegExp: `*`, `?`, and `[…]` / `[!…]` classes. */
function segmentRegExp(segment: string): RegExp {
  let source = '';
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i]!;
    if (c === '*') source += '[^/]*';
    else if (c === '?') source += '[^/]';
    else if (c === '[') {
      const close = segment.indexOf(']', i + 2);
      if (close === -1) {
        source += '\\[';
        continue;
      }
      let body = segment.slice(i + 1, close);
      if (body.startsWith('!')) body = `^${body.slice(1)}`;
      source += `[${body.replace(/\\/g, '\\\\')}]`;
      i = close;
    } else source += c.replace(/[.+^${}()|\\\]]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}
