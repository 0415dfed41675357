/**
 * The run-time nginx behaviour the rules rest on, checked on the real nginx 1.22
 * (one running nginx on free 127.0.0.1 ports, its own server block as the target):
 * - a variable anywhere in a proxy_pass URL makes nginx resolve a host name at run
 *   time (proxy-pass-variable-without-resolver), but not an address
 *   (`$server_addr`) nor an upstream block's name;
 * - a location with a proxy_set_header of its own inherits none from the server, so
 *   it sends Host $proxy_host, not the server's `Host $host` (mirror-location-no-host).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { writeHarness, type Harness } from '../../src/nginx/harness.js';
import { startNginx, type NginxProcess } from '../../src/nginx/nginxProcess.js';
import { findNginx } from '../../src/nginx/nginxBinary.js';
import { freePort } from '../../src/os/freePort.js';
import { waitFor } from '../../src/os/childProcess.js';

let nginx: NginxProcess | undefined;
let harness: Harness | undefined;
let port = 0;
let targetPort = 0;

beforeAll(async () => {
  [port, targetPort] = [await freePort(), await freePort()];
  harness = await writeHarness({
    listen: `127.0.0.1:${port}`,
    errorLogLevel: 'error',
    serverLevelHeaders: true,
    render: () => ({
      phase: 'shadow',
      files: [
        {
          name: 'target.http.conf',
          context: 'http',
          contents: [
            `upstream runtime_target { server 127.0.0.1:${targetPort}; }`,
            `server { listen 127.0.0.1:${targetPort}; location / { return 200 "host=$http_host uri=$request_uri\\n"; } }`,
            '',
          ].join('\n'),
        },
        {
          name: 'cases.server.conf',
          context: 'server',
          contents: [
            `location /by-address/ { proxy_pass http://$server_addr:${targetPort}$request_uri; }`,
            'location /by-upstream/ { proxy_pass http://runtime_target$request_uri; }',
            `location /by-name/ { proxy_pass http://localhost:${targetPort}/x$request_uri; }`,
            `location /own-headers/ { proxy_set_header X-Own 1; proxy_pass http://127.0.0.1:${targetPort}; }`,
            `location /inherited-headers/ { proxy_pass http://127.0.0.1:${targetPort}; }`,
            '',
          ].join('\n'),
        },
      ],
    }),
  });
  nginx = await startNginx(await findNginx(), harness);
}, 30_000);

afterAll(async () => {
  await nginx?.stop();
  await harness?.remove();
});

async function get(path: string, host = 'vendor.example.com'): Promise<{ status: number; body: string }> {
  const response = await request(`http://127.0.0.1:${port}${path}`, { headers: { host } });
  return { status: response.statusCode, body: await response.body.text() };
}

describe('nginx 1.22 at run time', () => {
  it('a variable in the URL needs no resolver for an address or an upstream name', async () => {
    expect(await get('/by-address/a')).toMatchObject({ status: 200, body: expect.stringContaining('uri=/by-address/a') });
    expect(await get('/by-upstream/b')).toMatchObject({ status: 200, body: expect.stringContaining('uri=/by-upstream/b') });
  });

  it('a variable only in the path makes nginx resolve a literal host name at run time: no resolver, 502', async () => {
    expect((await get('/by-name/c')).status).toBe(502);
    await waitFor(async () => (await nginx!.errorLog()).includes('no resolver defined to resolve localhost'), { timeoutMs: 10_000, what: '"no resolver defined" in the error log' });
  });

  it("a location's own proxy_set_header set drops the server's Host $host; without one, it is inherited", async () => {
    expect((await get('/own-headers/d')).body).toContain(`host=127.0.0.1:${targetPort} `);
    expect((await get('/inherited-headers/e')).body).toContain('host=vendor.example.com ');
  });
});
