/** Shell-style globs in the last path segment (`/var/log/nginx/parity.log*`), as nginx and logrotate use them. */
import { readdir } from 'node:fs/promises';
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
