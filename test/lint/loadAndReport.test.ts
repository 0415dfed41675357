/** Includes, globs, nginx -T dumps, unreadable input, the three formats, and the rendered configs. */
import { describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatLintOutput, runLint } from '../../src/commands/lint.js';
import { UsageError } from '../../src/errors.js';
import { phases } from '../../src/config/phases.js';
import { loadNginxConfig } from '../../src/lint/load.js';
import { lintTree } from '../../src/lint/index.js';
import { runMirror } from '../support/cli.js';

const seedMirror = `location = /_m {
    internal;
    set $t "abcdefghij.execute-api.ap-northeast-2.amazonaws.com";
    proxy_pass https://$t/dev/cb;
}
`;

async function dir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'mirror-lint-'));
}

describe('mirror lint input', () => {
  it('follows a glob include and points the finding into the included file', async () => {
    const root = await dir();
    await mkdir(join(root, 'conf.d'));
    await writeFile(join(root, 'nginx.conf'), 'events {}\nhttp {\n    server {\n        location = /cb { mirror /_m; proxy_pass http://127.0.0.1:1; }\n        include conf.d/*.conf;\n    }\n}\n');
    await writeFile(join(root, 'conf.d', 'mirror.conf'), `# the mirror\n${seedMirror}`);
    const { report, exitCode } = await runLint({ files: [join(root, 'nginx.conf')], format: 'json' });
    expect(exitCode).toBe(1);
    const finding = report.findings.find((f) => f.ruleId === 'proxy-pass-variable-without-resolver');
    expect(finding).toMatchObject({ file: join(root, 'conf.d', 'mirror.conf'), line: 5 });
    expect(report.files).toEqual([join(root, 'nginx.conf'), join(root, 'conf.d', 'mirror.conf')]);
  });

  it('reads an nginx -T dump and maps findings to the dumped file and line', async () => {
    const root = await dir();
    const dump = [
      'nginx: the configuration file /etc/nginx/nginx.conf syntax is ok',
      'nginx: configuration file /etc/nginx/nginx.conf test is successful',
      '# configuration file /etc/nginx/nginx.conf:',
      'events {}',
      'http {',
      '    include /etc/nginx/sites-enabled/*;',
      '}',
      '',
      '# configuration file /etc/nginx/sites-enabled/callbacks:',
      'server {',
      '    location = /cb { mirror /_m; proxy_pass http://127.0.0.1:1; }',
      ...seedMirror.trimEnd().split('\n').map((l) => `    ${l}`),
      '}',
      '',
    ].join('\n');
    await writeFile(join(root, 'dump.txt'), dump);
    const { report } = await runLint({ files: [join(root, 'dump.txt')], format: 'json' });
    expect(report.findings.find((f) => f.ruleId === 'proxy-pass-variable-without-resolver')).toMatchObject({
      file: '/etc/nginx/sites-enabled/callbacks',
      line: 6,
    });
  });

  it('refuses unreadable input with the file (and line) named: exit 2', async () => {
    const root = await dir();
    await expect(runLint({ files: [join(root, 'missing.conf')], format: 'text' })).rejects.toThrow(UsageError);
    await expect(runLint({ files: [root], format: 'text' })).rejects.toThrow(/is a directory/);
    await writeFile(join(root, 'unbalanced.conf'), 'http {\n    server {\n        listen 80;\n}\n');
    await expect(runLint({ files: [join(root, 'unbalanced.conf')], format: 'text' })).rejects.toThrow(/unbalanced\.conf:1: .*never closed/);
    await writeFile(join(root, 'quote.conf'), 'http {\n    set $a "open;\n}\n');
    await expect(runLint({ files: [join(root, 'quote.conf')], format: 'text' })).rejects.toThrow(/quote\.conf:2: unterminated double quote/);
    await writeFile(join(root, 'inc.conf'), 'http {\n    include /nonexistent/mirror.conf;\n}\n');
    await expect(runLint({ files: [join(root, 'inc.conf')], format: 'text' })).rejects.toThrow(/inc\.conf:2: include \/nonexistent\/mirror\.conf: \/nonexistent\/mirror\.conf not found/);
    await writeFile(join(root, 'glob.conf'), 'http {\n    include /nonexistent/*.conf;\n}\n');
    expect((await runLint({ files: [join(root, 'glob.conf')], format: 'text' })).exitCode).toBe(0);
  });
});

describe('mirror lint output', () => {
  const seed = fileURLToPath(new URL('../../nginx/examples/seed-nginx.conf', import.meta.url));

  it('text ends with the summary; json is the report; sarif 2.1.0 has one result per finding', async () => {
    const text = await runLint({ files: [seed], format: 'text' });
    expect(formatLintOutput(text).split('\n').at(-1)).toBe('3 errors, 3 warnings, 0 info in 1 file');
    expect(formatLintOutput(text)).toMatch(/seed-nginx\.conf:24: error proxy-pass-variable-without-resolver: /);
    const json = await runLint({ files: [seed], format: 'json' });
    expect(JSON.parse(formatLintOutput(json))).toEqual(JSON.parse(JSON.stringify(json.report)));
    const sarif = JSON.parse(formatLintOutput(await runLint({ files: [seed], format: 'sarif' })));
    expect(sarif.version).toBe('2.1.0');
    const run = sarif.runs[0];
    expect(run.tool.driver.rules).toHaveLength(12);
    expect(run.results).toHaveLength(json.report.findings.length);
    expect(run.results.map((r: { level: string }) => r.level).sort()).toEqual(json.report.findings.map((f) => (f.severity === 'info' ? 'note' : f.severity)).sort());
    expect(run.results[0].locations[0].physicalLocation).toMatchObject({ artifactLocation: { uri: seed }, region: { startLine: expect.any(Number) } });
  });

  it.each(phases)('what `mirror render` writes for %s lints with no error and no warning, even under server-level headers', async (phase) => {
    const snapshots = fileURLToPath(new URL(`../render/__snapshots__/${phase}/`, import.meta.url));
    const root = await dir();
    const conf = join(root, 'nginx.conf');
    await writeFile(
      conf,
      `events {}\nhttp {\n    include ${snapshots}mirror-bizppurio.http.conf;\n    server {\n        listen 127.0.0.1:8080;\n        proxy_set_header Host $host;\n        include ${snapshots}mirror-bizppurio.server.conf;\n        location / {\n            return 404;\n        }\n    }\n}\n`,
    );
    const { report, exitCode } = await runLint({ files: [conf], format: 'json' });
    expect(report.files).toHaveLength(3);
    expect(report.findings.filter((f) => f.severity !== 'info')).toEqual([]);
    expect(exitCode).toBe(0);
  });
});

describe('mirror lint: where includes come from', () => {
  it("notes and skips an include of this machine's /etc/nginx from a file given from elsewhere", async () => {
    const root = await dir();
    await writeFile(join(root, 'nginx.conf'), 'events {}\nhttp {\n    include /etc/nginx/conf.d/mirror-lint-never-there-*.conf;\n    include /etc/nginx/mirror-lint-never-there.conf;\n}\n');
    const result = await runLint({ files: [join(root, 'nginx.conf')], format: 'text' });
    const { report, exitCode } = result;
    const output = formatLintOutput(result);
    expect(exitCode).toBe(0);
    expect(report.files).toEqual([join(root, 'nginx.conf')]);
    expect(report.notes).toHaveLength(2);
    expect(report.notes![1]).toMatch(/nginx\.conf:4: include \/etc\/nginx\/mirror-lint-never-there\.conf: not read: .*nginx -T/);
    expect(output).toMatch(/^note: .*nginx\.conf:3: include \/etc\/nginx\/conf\.d/m);
  });

  it('reads an nginx -T dump from standard input (-), never from the disk', async () => {
    const dump = ['# configuration file /etc/nginx/nginx.conf:', 'events {}', 'http {', '    include /etc/nginx/sites-enabled/*;', '}', '', '# configuration file /etc/nginx/sites-enabled/cb:', 'server {', '    location = /m {', '        internal;', '        proxy_pass https://xxxxxx.execute-api.ap-northeast-2.amazonaws.com/dev$request_uri;', '    }', '}', ''].join('\n');
    const loaded = await loadNginxConfig('-', { stdin: async () => dump });
    expect(loaded.files).toEqual(['/etc/nginx/nginx.conf', '/etc/nginx/sites-enabled/cb']);
    expect(lintTree(loaded.tree).find((f) => f.ruleId === 'proxy-pass-variable-without-resolver')).toMatchObject({ file: '/etc/nginx/sites-enabled/cb', line: 4, severity: 'error' });
  });

  it('--conf-dir from the command line resolves a site file\'s includes (exit 1 on the seed\'s mirror line)', async () => {
    const root = await dir();
    await mkdir(join(root, 'sites-enabled'));
    await mkdir(join(root, 'snippets'));
    await writeFile(join(root, 'sites-enabled', 'cb'), 'server {\n    include snippets/m.conf;\n}\n');
    await writeFile(join(root, 'snippets', 'm.conf'), 'location = /m {\n    internal;\n    proxy_pass https://xxxxxx.execute-api.ap-northeast-2.amazonaws.com/dev$request_uri;\n}\n');
    const alone = await runMirror(['lint', join(root, 'sites-enabled', 'cb')]);
    expect(alone.exitCode).toBe(2);
    expect(alone.stderr).toMatch(/pass --conf-dir/);
    const withDir = await runMirror(['lint', '--prefix', root, '--conf-dir', '.', '--json', join(root, 'sites-enabled', 'cb')]);
    expect(withDir.exitCode).toBe(1);
    expect(JSON.parse(withDir.stdout).findings.map((f: { ruleId: string }) => f.ruleId)).toContain('proxy-pass-variable-without-resolver');
  });
});
