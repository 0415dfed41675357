/**
 * `mirror ship` runs for months and its resident set is measured (docs/benchmarks.md,
 * "The shipper's peak RSS"): its module graph must not pull in what only other
 * commands use. Checked in a fresh process, from the CommonJS packages it loaded.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { execa } from 'execa';

const shipModule = fileURLToPath(new URL('../../src/commands/ship.ts', import.meta.url));
const tsx = import.meta.resolve('tsx/esm');

async function packagesLoadedBy(module: string): Promise<string[]> {
  const script = [
    "import { createRequire } from 'node:module';",
    `await import(${JSON.stringify(module)});`,
    "const loaded = Object.keys(createRequire(import.meta.url)('node:module')._cache);",
    "console.log(JSON.stringify(loaded.map((p) => /node_modules\\/((?:@[^/]+\\/)?[^/]+)\\/(.*)$/.exec(p)).filter(Boolean).map((m) => `${m[1]}/${m[2]}`)));",
  ].join('\n');
  const run = await execa(process.execPath, ['--import', tsx, '--input-type=module', '-e', script]);
  return JSON.parse(run.stdout) as string[];
}

describe("mirror ship's module graph", () => {
  it('loads no template engine and only the parts of prom-client it uses', async () => {
    const loaded = await packagesLoadedBy(shipModule);
    // The shipper's own libraries are there (the check sees CommonJS packages at all).
    expect(loaded).toContain('prom-client/lib/histogram.js');
    expect(loaded.some((p) => p.startsWith('yaml/'))).toBe(true);
    // Handlebars only renders (render ship-unit, nginx config); prom-client's index
    // also loads the cluster aggregator, the push gateway and the default collectors.
    expect(loaded.filter((p) => p.startsWith('handlebars/'))).toEqual([]);
    expect(loaded).not.toContain('prom-client/index.js');
    expect(loaded).not.toContain('prom-client/lib/cluster.js');
  });
});
