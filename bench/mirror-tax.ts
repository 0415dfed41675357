/**
 * The mirror tax: what mirroring costs the origin behind nginx. Not a test: it
 * prints figures and their ratios to a baseline measured in the same run.
 *
 *   npx tsx bench/mirror-tax.ts [--duration 10] [--connections 8]
 *
 * For each nginx config (no mirror; the seed's config: variable proxy_pass, a
 * resolver, no timeouts; the rendered shadow config) and each mirror target state
 * (healthy: TLS, answers at once; slow: answers after 1.5 s; down: nothing
 * listening), wrk drives the callback location over keepalive connections and we
 * print req/s and p50/p99 latency. The origin and the target each run in a
 * process of their own; nginx runs one worker, as in FINDINGS.md fact 6.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { execa } from 'execa';
import { createTestCa } from '../src/sandbox/testCa.js';
import { startDnsServer } from '../src/sandbox/dnsServer.js';
import { startTargetProcess, type TargetProcess } from '../test/support/targetProcess.js';
import { freePort } from '../src/os/freePort.js';
import { sandboxRawConfig } from '../src/sandbox/sandboxConfig.js';
import { trickyCallback } from '../src/sandbox/callbacks.js';
import { bizppurio } from '../src/vendors/bizppurio.js';
import { validateConfig } from '../src/config/validate.js';
import { renderNginx, type RenderedNginx } from '../src/render/nginxConfig.js';
import { loadTemplates } from '../src/render/templates.js';
import { writeHarness } from '../src/nginx/harness.js';
import { startNginx } from '../src/nginx/nginxProcess.js';
import { findNginx } from '../src/nginx/nginxBinary.js';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '8' },
    'slow-ms': { type: 'string', default: '1500' },
  },
});
const durationS = Number(values.duration);
const connections = Number(values.connections);
const slowMs = Number(values['slow-ms']);

type ConfigName = 'no mirror' | 'seed config' | 'rendered shadow';
type TargetState = 'healthy' | 'slow' | 'down';
interface Figures {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  errors: string;
}

const restApiId = 'a1b2c3d4e5';
const region = 'ap-northeast-2';
const gatewayHost = `${restApiId}.execute-api.${region}.amazonaws.com`;

async function main(): Promise<void> {
  const nginxPath = await findNginx();
  await execa('wrk', ['--version'], { reject: false }).then((r) => {
    if (r.failed && !`${r.stdout}${r.stderr}`.includes('wrk')) throw new Error('wrk not found: apt-get install -y wrk');
  });
  const work = await mkdtemp(join(tmpdir(), 'mirror-bench-'));
  const ca = await createTestCa([gatewayHost]);
  const dns = await startDnsServer({ [gatewayHost]: '127.0.0.1' });
  const origin = await startTargetProcess({ responseBody: '{"code":"0000"}' });
  const templates = await loadTemplates('nginx');
  const body = trickyCallback(bizppurio, 1);
  const script = join(work, 'post.lua');
  await writeFile(
    script,
    `wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = ${luaString(body)}\n`,
  );
  const results = new Map<string, Figures>();
  try {
    console.log(`mirror tax: wrk, 1 thread, ${connections} keepalive connections, ${durationS} s per run, nginx 1 worker, ${body.length}-byte Bizppurio callback`);
    const baseline = await measure(nginxPath, work, script, (prefix) => noMirror(origin.port, prefix));
    results.set('no mirror', baseline);
    for (const state of ['healthy', 'slow', 'down'] as TargetState[]) {
      const target = state === 'down' ? undefined : await startTargetProcess({ tls: { cert: ca.cert, key: ca.key }, ...(state === 'slow' ? { delayMs: slowMs } : {}) });
      const targetPort = target?.port ?? (await freePort());
      try {
        for (const name of ['seed config', 'rendered shadow'] as ConfigName[]) {
          const render = (prefix: string): RenderedNginx =>
            name === 'seed config'
              ? seedConfig(origin.port, targetPort, dns.address)
              : renderedShadow(origin.port, targetPort, dns.address, ca.caPath, prefix, templates);
          const before = (await target?.count()) ?? 0;
          const figures = await measure(nginxPath, work, script, render);
          results.set(`${name}|${state}`, figures);
          // Includes the 1 s warm-up: how many mirrored copies reached the target.
          if (target) figures.errors += ` target got ${(await target.count()) - before} mirrors`;
        }
      } finally {
        await target?.stop();
      }
    }
  } finally {
    await origin.stop();
    await dns.stop();
    await ca.remove();
    await rm(work, { recursive: true, force: true });
  }
  printTable(results);
}

async function measure(nginxPath: string, work: string, script: string, render: (prefix: string) => RenderedNginx): Promise<Figures> {
  const port = await freePort();
  const harness = await writeHarness({ listen: `127.0.0.1:${port}`, parentDir: work, render, errorLogLevel: 'error' });
  const nginx = await startNginx(nginxPath, harness);
  try {
    const url = `http://127.0.0.1:${port}/api/kakao/result`;
    await execa('wrk', ['-t1', `-c${connections}`, '-d1s', '-s', script, url], { reject: false }); // warm-up
    const run = await execa('wrk', ['-t1', `-c${connections}`, `-d${durationS}s`, '--timeout', '10s', '--latency', '-s', script, url], { reject: false });
    return parseWrk(run.stdout);
  } finally {
    await nginx.stop();
    await harness.remove();
  }
}

function parseWrk(out: string): Figures {
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN);
  const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? NaN);
  const latency = (pct: string) => {
    const m = new RegExp(`^\\s+${pct}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, 'm').exec(out);
    if (!m) return NaN;
    const scale = { us: 0.001, ms: 1, s: 1000, m: 60_000 }[m[2] as 'us' | 'ms' | 's' | 'm'];
    return Number(m[1]) * scale;
  };
  const errors = [/Socket errors: .*/.exec(out)?.[0], /Non-2xx or 3xx responses: \d+/.exec(out)?.[0]].filter(Boolean).join('; ');
  return { rps, p50Ms: latency('50'), p99Ms: latency('99'), requests, errors };
}

function noMirror(originPort: number, _prefix: string): RenderedNginx {
  return files(
    '# no mirror\n',
    `location = /api/kakao/result {\n    proxy_pass http://127.0.0.1:${originPort};\n}\n`,
  );
}

/** The seed's config, as its migration notes had it: variable proxy_pass, a resolver, no timeouts. */
function seedConfig(originPort: number, targetPort: number, resolver: string): RenderedNginx {
  return files(
    '# seed\n',
    [
      'location = /api/kakao/result {',
      '    mirror /mirror_api_gw;',
      '    mirror_request_body on;',
      `    proxy_pass http://127.0.0.1:${originPort};`,
      '}',
      'location = /mirror_api_gw {',
      '    internal;',
      `    resolver ${resolver};`,
      `    set $api_gw_host "${gatewayHost}";`,
      `    proxy_pass https://$api_gw_host:${targetPort}/dev/kakao-at-result;`,
      '    proxy_ssl_server_name on;',
      '}',
      '',
    ].join('\n'),
  );
}

function renderedShadow(originPort: number, targetPort: number, resolver: string, caPath: string, prefix: string, templates: Awaited<ReturnType<typeof loadTemplates>>): RenderedNginx {
  const raw = sandboxRawConfig({
    restApiId,
    region,
    customDomain: 'callbacks.example.com',
    originUrl: `http://127.0.0.1:${originPort}`,
    targetPort,
    trustedCertificate: caPath,
    resolverAddress: resolver,
    resolverTimeout: '5s',
    parityLogPath: `${prefix}/logs/parity.log`,
    sample: 100,
    phase: 'shadow',
  });
  const result = validateConfig(raw, 'shadow');
  if (!result.ok) throw new Error(JSON.stringify(result.issues));
  return renderNginx(result.config, 'shadow', templates);
}

function files(http: string, server: string): RenderedNginx {
  return {
    phase: 'shadow',
    files: [
      { name: 'bench.http.conf', context: 'http', contents: http },
      { name: 'bench.server.conf', context: 'server', contents: server },
    ],
  };
}

function luaString(text: string): string {
  return `"${[...Buffer.from(text)].map((b) => `\\${b}`).join('')}"`;
}

function printTable(results: Map<string, Figures>): void {
  const base = results.get('no mirror')!;
  const ratio = (v: number, b: number) => (Number.isFinite(v) && b > 0 ? `${(v / b).toFixed(v / b < 0.1 ? 4 : 2)}x` : 'n/a');
  const fmt = (ms: number) => (Number.isFinite(ms) ? (ms >= 100 ? ms.toFixed(0) : ms.toFixed(2)) : 'n/a');
  const rows = [['config', 'target', 'req/s', 'p50 ms', 'p99 ms', 'req/s ratio', 'p50 ratio', 'p99 ratio', 'notes']];
  rows.push(['no mirror', '-', base.rps.toFixed(0), fmt(base.p50Ms), fmt(base.p99Ms), '1.00x', '1.00x', '1.00x', base.errors]);
  for (const [key, f] of results) {
    if (key === 'no mirror') continue;
    const [name, state] = key.split('|');
    rows.push([name!, state!, f.rps.toFixed(f.rps < 100 ? 1 : 0), fmt(f.p50Ms), fmt(f.p99Ms), ratio(f.rps, base.rps), ratio(f.p50Ms, base.p50Ms), ratio(f.p99Ms, base.p99Ms), f.errors.trim()]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const [i, row] of rows.entries()) {
    console.log(`| ${row.map((cell, j) => cell.padEnd(widths[j]!)).join(' | ')} |`);
    if (i === 0) console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  }
}

await main();
