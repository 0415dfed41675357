/**
 * Records the real `nginx -t` verdict on every corpus file into verdicts.json, so
 * the corpus test can hold lint to what nginx does without running nginx for each
 * file. Re-run it when the corpus or the nginx version changes:
 *
 *   npx tsx test/lint/corpus/record-verdicts.ts [--nginx PATH]
 *
 * Each file is tried as nginx would meet it: as the main file, then included in
 * the http, server and location contexts (a snippet means one of these), each in
 * a throwaway prefix that holds a copy of the file's source folder, so relative
 * includes resolve as on the file's own server. The lua, ndk and echo modules are
 * loaded when this nginx has them (many configs use them). The verdict is the first
 * context nginx accepts; when none does, nginx's message from the most telling
 * attempt (one not refused only for being in the wrong context).
 */
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { execa } from 'execa';

type CorpusContext = 'main' | 'http' | 'server' | 'location';

export interface CorpusVerdict {
  /** nginx accepted the file in `context`. */
  ok: boolean;
  context: CorpusContext;
  /** nginx's first emerg/crit line on failure, the prefix path replaced by `<corpus>`. */
  message?: string;
}

export const corpusDir = fileURLToPath(new URL('.', import.meta.url));

const optionalModules = ['ndk_http_module.so', 'ngx_http_lua_module.so', 'ngx_http_echo_module.so'].map((m) => `/usr/lib/nginx/modules/${m}`);

/** Messages that say only that the file belongs in another context. */
const wrongContext = /is not allowed here|no "events" section|unexpected end of file|unexpected "}"|"(http|server|location|events)" directive is duplicate/;

function wrapper(context: CorpusContext, file: string, modules: string[]): string {
  const load = modules.map((m) => `load_module ${m};\n`).join('');
  const include = `include ${file};`;
  switch (context) {
    case 'main':
      return `${load}${include}\n`;
    case 'http':
      return `${load}events {}\nhttp {\n${include}\n}\n`;
    case 'server':
      return `${load}events {}\nhttp {\nserver {\nlisten 127.0.0.1:9;\n${include}\n}\n}\n`;
    case 'location':
      return `${load}events {}\nhttp {\nserver {\nlisten 127.0.0.1:9;\nlocation /corpus-wrapper/ {\n${include}\n}\n}\n}\n`;
  }
}

async function nginxTest(nginx: string, prefix: string, work: string, conf: string): Promise<{ ok: boolean; message: string }> {
  const result = await execa(nginx, ['-t', '-q', '-p', `${prefix}/`, '-c', conf, '-e', join(work, 'error.log')], { reject: false, timeout: 30_000 });
  const line = result.stderr.split('\n').find((l) => /\[(emerg|crit|alert)\]/.test(l)) ?? result.stderr.split('\n')[0] ?? '';
  return { ok: result.exitCode === 0, message: line.replace(/^.*?\[(emerg|crit|alert)\] \d+#\d+: /, '').replaceAll(`${work}/src/`, '').replaceAll(work, '<work>') };
}

/** The source folder a corpus file came with (its package or repository root in the corpus). */
function sourceRoot(file: string): string {
  const [kind, name] = relative(corpusDir, file).split('/');
  return join(corpusDir, kind!, name!);
}

/**
 * nginx's conf dir for a corpus file: the nearest folder up to its source's root
 * that holds an nginx.conf (a snippet's includes are relative to the main file's
 * folder, as on its own server), else the file's own folder.
 */
export function confRoot(file: string): string {
  const root = sourceRoot(file);
  for (let dir = dirname(file); dir.startsWith(root); dir = dirname(dir)) {
    if (existsSync(join(dir, 'nginx.conf'))) return dir;
    if (dir === root) break;
  }
  return dirname(file);
}

/** Debian's files name modules and paths relative to the prefix Debian's nginx is built with. */
const debianPrefix = '/usr/share/nginx';

export async function recordVerdict(nginx: string, file: string): Promise<CorpusVerdict> {
  const root = sourceRoot(file);
  const work = await mkdtemp(join(tmpdir(), 'mirror-corpus-'));
  try {
    await cp(root, join(work, 'src'), { recursive: true });
    const copy = join(work, 'src', relative(root, file));
    const confDir = join(work, 'src', relative(root, confRoot(file)));
    const prefix = relative(corpusDir, file).startsWith('debian/') && existsSync(debianPrefix) ? debianPrefix : work;
    const modules = optionalModules.filter((m) => existsSync(m));
    const attempts: (CorpusVerdict & { telling: boolean })[] = [];
    for (const context of ['main', 'http', 'server', 'location'] as const) {
      // The wrapper sits beside the file: nginx resolves relative includes against the main file's folder.
      const conf = join(confDir, `.corpus-wrapper-${context}.conf`);
      let result = { ok: false, message: '' };
      for (const loaded of [modules, []]) {
        await writeFile(conf, wrapper(context, relative(confDir, copy), loaded));
        result = await nginxTest(nginx, prefix, work, conf);
        if (result.ok || !/module .* is already loaded|load_module.*too late/.test(result.message)) break;
      }
      if (result.ok) return { ok: true, context };
      attempts.push({ ok: false, context, message: result.message, telling: !wrongContext.test(result.message) });
    }
    const chosen = attempts.find((a) => a.telling) ?? attempts[0]!;
    return { ok: false, context: chosen.context, message: chosen.message };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { nginx: { type: 'string', default: '/usr/sbin/nginx' } } });
  const manifest = JSON.parse(await readFile(join(corpusDir, 'manifest.json'), 'utf8')) as { files: { path: string }[] };
  const verdicts: Record<string, CorpusVerdict> = {};
  for (const { path } of manifest.files) {
    verdicts[path] = await recordVerdict(values.nginx, join(corpusDir, path));
    process.stderr.write(`${verdicts[path]!.ok ? 'ok  ' : 'FAIL'} ${verdicts[path]!.context.padEnd(8)} ${path}${verdicts[path]!.message ? `: ${verdicts[path]!.message}` : ''}\n`);
  }
  const { version } = { version: (await execa(values.nginx, ['-v'], { reject: false })).stderr.trim() };
  await writeFile(join(corpusDir, 'verdicts.json'), `${JSON.stringify({ nginx: version, verdicts }, null, 2)}\n`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
