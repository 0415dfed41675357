/**
 * Parse and include behaviour that nginx has and lint must share, each case checked
 * against the real `nginx -t` (a throwaway prefix) before lint's answer is: what
 * nginx accepts, lint parses; what nginx refuses (an include of a directory, a
 * dangling symlink, a relative include that is not relative to the conf dir), lint
 * refuses as a usage error naming the include, never with a stack trace.
 */
import { describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, symlink, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { runLint } from '../../src/commands/lint.js';
import { UsageError } from '../../src/errors.js';
import { findNginx } from '../../src/nginx/nginxBinary.js';

/** The seed's mirror line: a finding whose line proves lint read past what came before. */
const seedLine = 'proxy_pass https://xxxxxx.execute-api.ap-northeast-2.amazonaws.com/dev$request_uri;';
const luaModule = '/usr/lib/nginx/modules/ngx_http_lua_module.so';

async function tree(files: Record<string, string>): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'mirror-lint-parity-'));
  await mkdir(join(root, 'logs'));
  for (const [name, text] of Object.entries(files)) {
    await mkdir(dirname(join(root, name)), { recursive: true });
    await writeFile(join(root, name), text);
  }
  return root;
}

/** The real nginx's verdict on `root/conf/nginx.conf` with `root` as its prefix. */
async function nginxVerdict(root: string): Promise<{ ok: boolean; stderr: string }> {
  const result = await execa(await findNginx(), ['-t', '-q', '-p', `${root}/`, '-c', join(root, 'conf', 'nginx.conf'), '-e', join(root, 'logs', 'error.log')], { reject: false });
  return { ok: result.exitCode === 0, stderr: result.stderr };
}

const head = (modules = '') => `${modules}pid logs/nginx.pid;\nevents {}\nhttp {\n    access_log off;\n`;
const serverWithSeedMirror = (before = '') => `    server {\n        listen 127.0.0.1:9;\n${before}        location = /m {\n            internal;\n            ${seedLine}\n        }\n    }\n`;

async function seedFinding(file: string, options: { confDir?: string } = {}) {
  const { report } = await runLint({ files: [file], format: 'json', ...options });
  return report.findings.find((f) => f.ruleId === 'proxy-pass-variable-without-resolver');
}

describe('lint parses what nginx parses', () => {
  it.skipIf(!existsSync(luaModule))('Lua blocks with braces in strings, comments and long brackets', async () => {
    const lua = [
      '        location /lua {',
      '            content_by_lua_block {',
      '                ngx.say("}") -- a } in a comment',
      '                local s = [[ } ]] local t = [=[ ]] } ]=]',
      '                --[[ a long',
      '                comment } ]]',
      `                ngx.say('{', "\\"}")`,
      '            }',
      '        }',
      '',
    ].join('\n');
    const root = await tree({ 'conf/nginx.conf': `${head(`load_module /usr/lib/nginx/modules/ndk_http_module.so;\nload_module ${luaModule};\n`)}${serverWithSeedMirror(lua)}}\n` });
    expect(await nginxVerdict(root)).toMatchObject({ ok: true });
    expect(await seedFinding(join(root, 'conf', 'nginx.conf'))).toMatchObject({ line: 20 });
  });

  it('a word holding "}" (return 200 a}b;)', async () => {
    const root = await tree({ 'conf/nginx.conf': `${head()}${serverWithSeedMirror('        location /b { return 200 a}b; }\n')}}\n` });
    expect(await nginxVerdict(root)).toMatchObject({ ok: true });
    expect(await seedFinding(join(root, 'conf', 'nginx.conf'))).toMatchObject({ line: 10 });
  });

  it('a CRLF nginx -T dump keeps every line number', async () => {
    const dump = ['# configuration file /etc/nginx/nginx.conf:', 'events {}', 'http {', serverWithSeedMirror().trimEnd(), '}', ''].join('\n').replace(/\n/g, '\r\n');
    const root = await tree({ 'dump.txt': dump });
    expect(await seedFinding(join(root, 'dump.txt'))).toMatchObject({ file: '/etc/nginx/nginx.conf', line: 7 });
  });
});

describe('includes behave as nginx resolves them', () => {
  it('a glob in a directory segment reads the nested files; hidden names are skipped', async () => {
    const root = await tree({
      'conf/nginx.conf': `${head()}    include sites/*/*.conf;\n}\n`,
      'conf/sites/callbacks/mirror.conf': serverWithSeedMirror(),
      'conf/sites/.old/broken.conf': 'this is not nginx syntax {\n',
      'conf/sites/callbacks/.swap.conf': 'neither is this {\n',
    });
    expect(await nginxVerdict(root)).toMatchObject({ ok: true });
    const { report } = await runLint({ files: [join(root, 'conf', 'nginx.conf')], format: 'json' });
    expect(report.files).toEqual([join(root, 'conf', 'nginx.conf'), join(root, 'conf', 'sites', 'callbacks', 'mirror.conf')]);
    expect(await seedFinding(join(root, 'conf', 'nginx.conf'))).toMatchObject({ file: join(root, 'conf', 'sites', 'callbacks', 'mirror.conf'), line: 5 });
  });

  it('an include glob matching a directory: nginx -t fails, lint is a usage error at the include', async () => {
    const root = await tree({ 'conf/nginx.conf': `${head()}    include conf.d/*;\n}\n`, 'conf/conf.d/a.conf': '', 'conf/conf.d/sub/b.conf': '' });
    const verdict = await nginxVerdict(root);
    expect(verdict.ok).toBe(false);
    expect(verdict.stderr).toMatch(/Is a directory/);
    const failure = runLint({ files: [join(root, 'conf', 'nginx.conf')], format: 'text' });
    await expect(failure).rejects.toThrow(UsageError);
    await expect(failure).rejects.toThrow(/nginx\.conf:5: include conf\.d\/\*: .*conf\.d\/sub is a directory/);
  });

  it('a dangling symlink under sites-enabled: nginx -t fails, lint is a usage error naming it', async () => {
    const root = await tree({ 'conf/nginx.conf': `${head()}    include sites-enabled/*;\n}\n`, 'conf/sites-enabled/live': serverWithSeedMirror() });
    await symlink(join(root, 'conf', 'sites-available', 'gone'), join(root, 'conf', 'sites-enabled', 'old'));
    const verdict = await nginxVerdict(root);
    expect(verdict.ok).toBe(false);
    expect(verdict.stderr).toMatch(/sites-enabled\/old" failed \(2: No such file or directory\)/);
    await expect(runLint({ files: [join(root, 'conf', 'nginx.conf')], format: 'text' })).rejects.toThrow(/nginx\.conf:5: include sites-enabled\/\*: .*sites-enabled\/old not found \(a missing file or a symlink to nothing/);
  });

  it("a relative include resolves against the conf dir, not the including file's directory", async () => {
    const root = await tree({
      'conf/nginx.conf': `${head()}    include deep/outer.conf;\n}\n`,
      'conf/deep/outer.conf': 'include rel.conf;\n',
      'conf/deep/rel.conf': serverWithSeedMirror(),
    });
    const verdict = await nginxVerdict(root);
    expect(verdict.ok).toBe(false);
    expect(verdict.stderr).toMatch(/conf\/rel\.conf" failed \(2: No such file or directory\)/);
    await expect(runLint({ files: [join(root, 'conf', 'nginx.conf')], format: 'text' })).rejects.toThrow(/outer\.conf:1: include rel\.conf: .*conf\/rel\.conf not found/);
  });

  it('a site file linted alone says what to do; --conf-dir makes its includes resolve', async () => {
    const root = await tree({
      'conf/nginx.conf': `${head()}    include sites-enabled/*;\n}\n`,
      'conf/sites-enabled/callbacks': `server {\n    listen 127.0.0.1:9;\n    include snippets/mirror.conf;\n}\n`,
      'conf/snippets/mirror.conf': `location = /m {\n    internal;\n    ${seedLine}\n}\n`,
    });
    expect(await nginxVerdict(root)).toMatchObject({ ok: true });
    const site = join(root, 'conf', 'sites-enabled', 'callbacks');
    await expect(runLint({ files: [site], format: 'text' })).rejects.toThrow(/lint the main nginx\.conf, pass --conf-dir .*or pipe `nginx -T`/);
    expect(await seedFinding(site, { confDir: join(root, 'conf') })).toMatchObject({ file: join(root, 'conf', 'snippets', 'mirror.conf'), line: 3 });
  });

  it("an nginx -T dump never reads this machine's files for an include it lacks", async () => {
    const dump = ['# configuration file /etc/nginx/nginx.conf:', 'events {}', 'http {', '    include /etc/nginx/mime.types;', '}', ''].join('\n');
    const root = await tree({ 'dump.txt': dump });
    await expect(runLint({ files: [join(root, 'dump.txt')], format: 'text' })).rejects.toThrow(/\/etc\/nginx\/mime\.types is not in the nginx -T dump/);
  });
});
