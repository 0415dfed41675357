/** Loads the Handlebars templates from disk: the adapter between `templates/` and the pure renderers. */
import { readFile, readdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

/** `templates/` of this package, found from both `src/` (tests) and `dist/` (built CLI). */
export const templatesDir = fileURLToPath(new URL('../../templates/', import.meta.url));

export interface TemplateSet {
  /** Output file templates by name (e.g. `http.conf`). */
  files: Record<string, string>;
  /** Partials by name (e.g. `gatewayProxy`). */
  partials: Record<string, string>;
}

export async function loadTemplates(kind: 'nginx' | 'apigw' | 'dashboard', dir: string = templatesDir): Promise<TemplateSet> {
  const base = join(dir, kind);
  const files = await readTemplates(base);
  const partials = await readTemplates(join(base, 'partials'));
  return { files, partials };
}

async function readTemplates(dir: string): Promise<Record<string, string>> {
  const names = (await readdir(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [] as string[];
    throw error;
  })).filter((n) => n.endsWith('.hbs')).sort();
  const entries = await Promise.all(
    names.map(async (n) => [n.replace(/\.hbs$/, ''), await readFile(join(dir, n), 'utf8')] as const),
  );
  return Object.fromEntries(entries);
}
