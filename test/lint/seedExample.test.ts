/**
 * The seed's config exactly as the seed wrote it (nginx/examples/seed-nginx.conf):
 * lint finds the missing resolver and sees the stage `dev`; the real nginx 1.22
 * passes `nginx -t`, then fails the mirror with "no resolver defined to resolve",
 * and `mirror doctor` explains that line in terms of the seed's form.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { runLint } from '../../src/commands/lint.js';
import { runDoctor } from '../../src/commands/doctor.js';
import { writeHarness, type Harness } from '../../src/nginx/harness.js';
import { startNginx, type NginxProcess } from '../../src/nginx/nginxProcess.js';
import { findNginx } from '../../src/nginx/nginxBinary.js';
import { runNginxTest } from '../../src/nginx/nginxTest.js';
import { freePort } from '../../src/os/freePort.js';
import { waitFor } from '../../src/os/childProcess.js';

const seedPath = fileURLToPath(new URL('../../nginx/examples/seed-nginx.conf', import.meta.url));
const seedLine = 'proxy_pass https://xxxxxx.execute-api.ap-northeast-2.amazonaws.com/dev$request_uri;';

async function seedMirrorLocation(): Promise<string> {
  const text = await readFile(seedPath, 'utf8');
  const block = /location = \/mirror_api_gw \{[^}]*\}/.exec(text)?.[0];
  if (!block) throw new Error('the example lost its mirror location');
  return block;
}

describe("the seed's exact config", () => {
  it('is the example, and lint reports the missing resolver and no missing stage', async () => {
    expect(await seedMirrorLocation()).toContain(seedLine);
    const { report, exitCode } = await runLint({ files: [seedPath], format: 'json' });
    expect(exitCode).toBe(1);
    const resolver = report.findings.filter((f) => f.ruleId === 'proxy-pass-variable-without-resolver');
    expect(resolver).toHaveLength(1);
    expect(resolver[0]).toMatchObject({ severity: 'error', message: expect.stringContaining('no resolver defined to resolve xxxxxx.execute-api.ap-northeast-2.amazonaws.com') });
    expect(report.findings.map((f) => f.ruleId)).not.toContain('execute-api-path-without-stage');
    // Any variable makes nginx resolve at run time: not "resolved once at load time".
    expect(report.findings.map((f) => f.ruleId)).not.toContain('proxy-pass-literal-aws-host');
  });

  describe('through the real nginx', () => {
    let nginx: NginxProcess | undefined;
    let harness: Harness | undefined;
    afterEach(async () => {
      await nginx?.stop();
      await harness?.remove();
      nginx = undefined;
      harness = undefined;
    });

    it('passes nginx -t, fails every mirror with "no resolver defined", and doctor names the path variable', async () => {
      const nginxPath = await findNginx();
      const [port, originPort] = [await freePort(), await freePort()];
      const mirror = await seedMirrorLocation();
      harness = await writeHarness({
        listen: `127.0.0.1:${port}`,
        errorLogLevel: 'error',
        render: () => ({
          phase: 'shadow',
          files: [
            { name: 'origin.http.conf', context: 'http', contents: `server {\n    listen 127.0.0.1:${originPort};\n    location / { return 200 "origin\\n"; }\n}\n` },
            {
              name: 'seed.server.conf',
              context: 'server',
              contents: `location /api/kakao/result {\n    mirror /mirror_api_gw;\n    proxy_pass http://127.0.0.1:${originPort};\n}\n${mirror}\n`,
            },
          ],
        }),
      });
      const test = await runNginxTest(nginxPath, harness);
      expect(test.ok, test.stderr).toBe(true);
      nginx = await startNginx(nginxPath, harness);
      const response = await request(`http://127.0.0.1:${port}/api/kakao/result`, { method: 'POST', body: 'to=01012345678' });
      expect(response.statusCode).toBe(200);
      await response.body.text();
      await waitFor(async () => (await nginx!.errorLog()).includes('no resolver defined to resolve xxxxxx.execute-api.ap-northeast-2.amazonaws.com'), {
        timeoutMs: 10_000,
        what: '"no resolver defined" in the error log',
      });
      const { report, exitCode } = await runDoctor({ errorLog: [harness.errorLogPath] });
      expect(exitCode).toBe(1);
      const diagnosis = report.diagnoses.find((d) => d.id === 'no-resolver');
      expect(diagnosis?.cause).toMatch(/only in the path/);
      expect(diagnosis?.cause).toContain('/dev$request_uri');
    });
  });
});
