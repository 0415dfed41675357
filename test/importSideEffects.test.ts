/**
 * Importing has no side effects (STYLE.md 8): in a fresh process, loading every
 * module of src/ (the process entry points aside) leaves no timer, socket, server or
 * child running, adds no signal handler, and registers nothing in prom-client's
 * global registry; and the process then exits by itself.
 */
import { readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { execa } from 'execa';

const srcDir = fileURLToPath(new URL('../src/', import.meta.url));
const tsx = import.meta.resolve('tsx/esm');
// Entry points run when imported, by design: the bin and the child-process mains.
const entryPoints = new Set(['cli.ts', 'sandbox/supervisorMain.ts', 'sandbox/recordingServerMain.ts', 'sqs/fauxqsMain.ts']);

async function modules(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await modules(path)));
    else if (entry.name.endsWith('.ts') && !entryPoints.has(relative(srcDir, path))) out.push(path);
  }
  return out.sort();
}

describe('importing src/', () => {
  it('starts nothing, listens for no signal, registers no metric, and lets the process exit', async () => {
    const files = await modules(srcDir);
    expect(files.length).toBeGreaterThan(50);
    const script = `
      const files = ${JSON.stringify(files.map((f) => pathToFileURL(f).href))};
      for (const f of files) await import(f);
      const { register } = await import('prom-client');
      // After the imports' own promises settle: what is still alive was started by a module.
      setImmediate(() => {
        // File requests finish by themselves (tsx writes its cache); the rest would keep a process up.
        const resources = process.getActiveResourcesInfo().filter((r) => !['Immediate', 'TTYWrap', 'PipeWrap', 'FSReqPromise', 'FSReqCallback'].includes(r));
        console.log(JSON.stringify({ resources, sigint: process.listenerCount('SIGINT'), sigterm: process.listenerCount('SIGTERM'), metrics: register.getMetricsAsArray().length }));
      });
    `;
    const run = await execa(process.execPath, ['--import', tsx, '--input-type=module', '-e', script], { reject: false, timeout: 60_000, cwd: srcDir });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout.trim().split('\n').at(-1)!)).toEqual({ resources: [], sigint: 0, sigterm: 0, metrics: 0 });
  }, 90_000);
});
