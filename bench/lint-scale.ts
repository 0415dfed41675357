/**
 * `mirror lint` cost against the number of mirrored locations: one `server` with N
 * callback locations, each mirroring to an internal mirror location of its own
 * (2N locations, the shape that took 27.5 s at N = 8,000 when matching was
 * quadratic). Not a test: it prints figures and two ratios measured in the same run:
 * lint time over the time to parse the same file alone (the baseline: reading it
 * is the least any linter does), and time per location against the smallest N
 * (about 1 when the cost is linear). Each size runs in a child process of its own,
 * so its peak RSS is its alone. CPU time is printed beside wall time: on a shared
 * machine the wall time measures the neighbours too.
 *
 *   npx tsx bench/lint-scale.ts [--sizes 1000,2000,4000,8000,10000]
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { execa } from 'execa';
import { runLint } from '../src/commands/lint.js';
import { parseConfig } from '../src/lint/parse.js';

const { values } = parseArgs({ options: { sizes: { type: 'string', default: '1000,2000,4000,8000,10000' }, child: { type: 'string' } } });

/** N mirrored callback locations in one server, with everything the rules ask for, so findings stay few. */
export function mirroredServer(locations: number): string {
  const lines = ['events {}', 'http {', '    server {', '        listen 127.0.0.1:8080;'];
  for (let i = 0; i < locations; i++) {
    lines.push(
      `        location = /callbacks/vendor${i} {`,
      `            mirror /_mirror/vendor${i};`,
      '            proxy_pass http://127.0.0.1:9000;',
      '        }',
      `        location = /_mirror/vendor${i} {`,
      '            internal;',
      '            resolver 10.0.0.2 valid=10s ipv6=off;',
      '            set $t "abcdefghij.execute-api.ap-northeast-2.amazonaws.com";',
      `            proxy_pass https://$t/dev/vendor${i}$is_args$args;`,
      '            proxy_set_header Host $t;',
      '            proxy_set_header X-Mirror-Request-Id $request_id;',
      '            proxy_ssl_server_name on;',
      '            proxy_ssl_name $t;',
      '            proxy_ssl_verify on;',
      '            proxy_ssl_trusted_certificate /etc/ssl/certs/ca-certificates.crt;',
      '            proxy_connect_timeout 1s;',
      '            proxy_read_timeout 2s;',
      '        }',
    );
  }
  lines.push('    }', '}', '');
  return lines.join('\n');
}

async function child(file: string): Promise<void> {
  const text = await readFile(file, 'utf8');
  const cpuMs = (since: NodeJS.CpuUsage) => {
    const used = process.cpuUsage(since);
    return (used.user + used.system) / 1000;
  };
  let cpu = process.cpuUsage();
  const parseStart = performance.now();
  parseConfig(text, file);
  const parseMs = performance.now() - parseStart;
  const parseCpuMs = cpuMs(cpu);
  cpu = process.cpuUsage();
  const lintStart = performance.now();
  const { report } = await runLint({ files: [file], format: 'json' });
  const lintMs = performance.now() - lintStart;
  const lintCpuMs = cpuMs(cpu);
  process.stdout.write(JSON.stringify({ parseMs, parseCpuMs, lintMs, lintCpuMs, findings: report.findings.length, maxRssMb: process.resourceUsage().maxRSS / 1024 }));
}

async function main(): Promise<void> {
  if (values.child) return child(values.child);
  const sizes = values.sizes.split(',').map(Number);
  const dir = await mkdtemp(join(tmpdir(), 'mirror-bench-lint-'));
  const self = fileURLToPath(import.meta.url);
  try {
    console.log('mirrored | lint wall (cpu) | parse alone, baseline: wall (cpu) | lint/parse cpu | lint cpu ms per 1k mirrored | vs smallest | peak RSS | findings');
    let firstPerK: number | undefined;
    for (const n of sizes) {
      const file = join(dir, `server-${n}.conf`);
      await writeFile(file, mirroredServer(n));
      const { stdout } = await execa(process.execPath, [...process.execArgv, self, '--child', file]);
      const r = JSON.parse(stdout) as { parseMs: number; parseCpuMs: number; lintMs: number; lintCpuMs: number; findings: number; maxRssMb: number };
      const perK = (r.lintCpuMs / n) * 1000;
      firstPerK ??= perK;
      console.log(
        [
          String(n).padStart(8),
          `${r.lintMs.toFixed(0)} ms (${r.lintCpuMs.toFixed(0)} ms)`.padStart(15),
          `${r.parseMs.toFixed(0)} ms (${r.parseCpuMs.toFixed(0)} ms)`.padStart(34),
          `${(r.lintCpuMs / r.parseCpuMs).toFixed(1)}x`.padStart(14),
          perK.toFixed(0).padStart(27),
          `${(perK / firstPerK).toFixed(2)}x`.padStart(11),
          `${r.maxRssMb.toFixed(0)} MB`.padStart(8),
          r.findings,
        ].join(' | '),
      );
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
