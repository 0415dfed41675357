/**
 * `mirror ship` has the memory settings its systemd unit sets whoever starts it
 * (src/ship/shipHeap.ts): started by hand, the CLI runs itself again in place
 * under them, unless its heap sizes were chosen. The peak RSS aim is measured with
 * these settings (docs/benchmarks.md); V8's defaults reach about twice as much.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { shipNodeOptions, shipReexecEnvironment } from '../../src/ship/shipHeap.js';
import { createTestCa } from '../../src/sandbox/testCa.js';
import { sandboxRawConfig } from '../../src/sandbox/sandboxConfig.js';
import { freePort } from '../../src/os/freePort.js';
import { waitFor } from '../../src/os/childProcess.js';
import { runMirror } from '../support/cli.js';

describe('the environment mirror ship runs itself again with', () => {
  it("adds the unit's heap flags and malloc arenas, keeping the other NODE_OPTIONS after them", () => {
    expect(shipReexecEnvironment({ PATH: '/bin', NODE_OPTIONS: '--enable-source-maps' }, [], 256)).toEqual({
      PATH: '/bin',
      NODE_OPTIONS: `${shipNodeOptions(256).join(' ')} --enable-source-maps`,
      MALLOC_ARENA_MAX: '2',
    });
    expect(shipReexecEnvironment({}, ['--import', 'tsx'], 10_000)?.NODE_OPTIONS).toBe('--max-semi-space-size=4 --max-old-space-size=119');
    expect(shipReexecEnvironment({ MALLOC_ARENA_MAX: '8' }, [], 256)?.MALLOC_ARENA_MAX).toBe('8');
  });

  it('none when the heap sizes were chosen: by the unit, by NODE_OPTIONS or on node\'s command line', () => {
    expect(shipReexecEnvironment({ NODE_OPTIONS: shipNodeOptions(256).join(' ') }, [], 256)).toBeUndefined();
    expect(shipReexecEnvironment({ NODE_OPTIONS: '--max-old-space-size=512' }, [], 256)).toBeUndefined();
    expect(shipReexecEnvironment({}, ['--max_semi_space_size=16'], 256)).toBeUndefined();
  });
});

describe('mirror ship started by hand', () => {
  let dir: string | undefined;
  let removeCa: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await removeCa?.();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function shipConfig(): Promise<{ config: string; metricsUrl: string }> {
    dir = await mkdtemp(join(tmpdir(), 'mirror-ship-heap-'));
    const gatewayHost = 'a1b2c3d4e5.execute-api.ap-northeast-2.amazonaws.com';
    const ca = await createTestCa([gatewayHost]);
    removeCa = () => ca.remove();
    const raw = sandboxRawConfig({
      restApiId: 'a1b2c3d4e5', region: 'ap-northeast-2', customDomain: 'callbacks.example.com', originUrl: 'http://127.0.0.1:1', targetPort: await freePort(),
      trustedCertificate: ca.caPath, resolverAddress: '127.0.0.1:1', resolverTimeout: '5s', parityLogPath: join(dir, 'parity.log'), sample: 100, phase: 'shadow',
    });
    const port = await freePort();
    raw.mirror.transport = 'ship';
    raw.ship = { checkpoint: join(dir, 'ship-checkpoint.json'), ackLog: join(dir, 'ship-ack.log'), listen: `127.0.0.1:${port}`, window: 256, statusInterval: '1h' };
    const config = join(dir, 'mirror.yaml');
    await writeFile(config, stringify(raw));
    return { config, metricsUrl: `http://127.0.0.1:${port}/metrics` };
  }

  /** Runs `mirror ship` with `nodeOptions`; returns the environment its process ends up with, then stops it with SIGTERM. */
  async function environmentOfShipper(nodeOptions: string): Promise<{ env: Map<string, string>; exitCode: number | undefined; args: string[] }> {
    const { config, metricsUrl } = await shipConfig();
    const child = runMirror(['ship', '--config', config], { env: { NODE_OPTIONS: nodeOptions }, timeout: 60_000 });
    try {
      await waitFor(() => fetch(metricsUrl).then((r) => (void r.body?.cancel(), r.ok), () => false), { timeoutMs: 30_000, what: 'mirror ship serving its metrics', child });
      // The pid the test started: execve keeps it, so this is the process that ships.
      const environ = (await readFile(`/proc/${child.pid}/environ`, 'utf8')).split('\0').filter(Boolean);
      const args = (await readFile(`/proc/${child.pid}/cmdline`, 'utf8')).split('\0').filter(Boolean);
      const env = new Map(environ.map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
      child.kill('SIGTERM');
      const result = await child;
      return { env, exitCode: result.exitCode, args };
    } finally {
      child.kill('SIGKILL');
    }
  }

  it("runs itself again in place with the unit's memory settings; SIGTERM still stops it cleanly", async () => {
    const { env, exitCode, args } = await environmentOfShipper('');
    expect(env.get('NODE_OPTIONS')).toBe(shipNodeOptions(256).join(' '));
    expect(env.get('MALLOC_ARENA_MAX')).toBe('2');
    expect(args.slice(-3)).toEqual(['ship', '--config', expect.stringMatching(/mirror\.yaml$/)]);
    expect(exitCode).toBe(0);
  }, 90_000);

  it('keeps heap sizes the user chose', async () => {
    const { env, exitCode } = await environmentOfShipper('--max-old-space-size=300');
    expect(env.get('NODE_OPTIONS')).toBe('--max-old-space-size=300');
    expect(env.has('MALLOC_ARENA_MAX')).toBe(false);
    expect(exitCode).toBe(0);
  }, 90_000);
});
