/**
 * The harness: a throwaway nginx prefix whose nginx.conf includes the rendered
 * files. `mirror validate` runs `nginx -t` on it; the tests and the sandbox run
 * nginx on it. Rendering the harness is pure; writing it is the adapter below.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Handlebars from 'handlebars';
import type { RenderedNginx } from '../render/nginxConfig.js';

const harnessTemplatePath = fileURLToPath(new URL('../../nginx/harness.conf.hbs', import.meta.url));

interface HarnessView {
  prefix: string;
  listen: string;
  httpInclude: string;
  serverInclude: string;
  /** `user root;` when the master runs as root, so workers can read the prefix. */
  user?: string;
  workerProcesses: number;
  errorLogLevel: 'debug' | 'info' | 'notice' | 'warn' | 'error';
  /** Upstream names declared as stubs so `nginx -t` resolves nothing. */
  upstreamStubs: string[];
  /** Add server-level proxy_set_header, as real servers often have. */
  serverLevelHeaders: boolean;
}

function renderHarness(template: string, view: HarnessView): string {
  return Handlebars.create().compile(template, { noEscape: true })(view);
}

export interface HarnessOptions extends Partial<Omit<HarnessView, 'prefix' | 'httpInclude' | 'serverInclude'>> {
  /** Renders the include files once the prefix exists (logs may be pointed into it). */
  render: (prefix: string) => RenderedNginx;
  /** Parent directory for the prefix (default: the OS temp dir). */
  parentDir?: string;
}

export interface Harness {
  prefix: string;
  confPath: string;
  errorLogPath: string;
  /** Absolute path in the prefix -> rendered file name, to map nginx messages back. */
  fileMap: Record<string, string>;
  /** Absolute path of each rendered file in the prefix, by name. */
  files: Record<string, string>;
  listen: string;
  remove(): Promise<void>;
}

export async function writeHarness(options: HarnessOptions): Promise<Harness> {
  const prefix = await mkdtemp(join(options.parentDir ?? tmpdir(), 'mirror-nginx-'));
  for (const dir of ['conf', 'logs', 'temp']) await mkdir(join(prefix, dir), { recursive: true });
  const rendered = options.render(prefix);
  const http = rendered.files.find((f) => f.context === 'http')!;
  const server = rendered.files.find((f) => f.context === 'server')!;
  const user = options.user ?? defaultUser();
  const view: HarnessView = {
    prefix,
    listen: options.listen ?? '127.0.0.1:9',
    httpInclude: http.name,
    serverInclude: server.name,
    ...(user ? { user } : {}),
    workerProcesses: options.workerProcesses ?? 1,
    errorLogLevel: options.errorLogLevel ?? 'warn',
    upstreamStubs: options.upstreamStubs ?? [],
    serverLevelHeaders: options.serverLevelHeaders ?? false,
  };
  const confPath = join(prefix, 'conf', 'nginx.conf');
  await writeFile(confPath, renderHarness(await readFile(harnessTemplatePath, 'utf8'), view));
  const files: Record<string, string> = {};
  const fileMap: Record<string, string> = { [confPath]: 'harness nginx.conf' };
  for (const file of rendered.files) {
    const path = join(prefix, 'conf', file.name);
    await writeFile(path, file.contents);
    files[file.name] = path;
    fileMap[path] = file.name;
  }
  return {
    prefix,
    confPath,
    errorLogPath: join(prefix, 'logs', 'error.log'),
    fileMap,
    files,
    listen: view.listen,
    remove: () => rm(prefix, { recursive: true, force: true }),
  };
}

function defaultUser(): string | undefined {
  return process.getuid?.() === 0 ? 'root' : undefined;
}

/** The arguments that point nginx at a harness: prefix, config and error log. */
export function harnessArgs(harness: Pick<Harness, 'prefix' | 'confPath' | 'errorLogPath'>): string[] {
  return ['-p', harness.prefix, '-c', harness.confPath, '-e', harness.errorLogPath];
}
