/**
 * parityLog.buffer (opt-in): nginx writes the parity log a buffer at a time. The
 * real nginx accepts the rendered directive; a line waits in the buffer at most
 * `flush`; a graceful reload writes what is buffered, so a reload loses nothing.
 */
import { readFile, stat } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/config/validate.js';
import { renderNginx } from '../../src/render/nginxConfig.js';
import { loadTemplates } from '../../src/render/templates.js';
import { runValidate } from '../../src/commands/validate.js';
import { ExitCode } from '../../src/errors.js';
import { startShadowStack, type ShadowStack } from '../../src/sandbox/shadowStack.js';
import { sendCallbacks, trickyCallback } from '../../src/sandbox/callbacks.js';
import { bizppurio } from '../../src/vendors/bizppurio.js';
import { waitFor } from '../../src/os/childProcess.js';
import { exampleConfig, withValue, writeConfigFile } from '../support/config.js';

const stacks: ShadowStack[] = [];
afterEach(async () => {
  for (const s of stacks.splice(0)) await s.stop();
});

const lineCount = async (path: string) => (await readFile(path, 'utf8').catch(() => '')).split('\n').filter(Boolean).length;

describe('parityLog.buffer', () => {
  it('renders buffer= and flush= on the parity log only when set; the real nginx -t accepts it; a bad size names the key', async () => {
    const ship = withValue(exampleConfig(), 'mirror.transport', 'ship');
    const templates = await loadTemplates('nginx');
    const server = (raw: ReturnType<typeof exampleConfig>) => {
      const result = validateConfig(raw);
      if (!result.ok) throw new Error(JSON.stringify(result.issues));
      return renderNginx(result.config, 'shadow', templates).files.find((f) => f.context === 'server')!.contents;
    };
    expect(server(ship)).toContain('access_log /var/log/nginx/mirror-parity.log mirror_bizppurio_parity;');
    const buffered = withValue(ship, 'parityLog.buffer', '64k');
    expect(server(buffered)).toContain('access_log /var/log/nginx/mirror-parity.log mirror_bizppurio_parity buffer=64k flush=100ms;');
    const result = await runValidate({ config: await writeConfigFile(withValue(withValue(buffered, 'parityLog.flush', '250ms'), 'phase', 'shadow')) });
    expect(result.nginxTest.ok, JSON.stringify(result.nginxTest.messages)).toBe(true);
    expect(result.exitCode).toBe(ExitCode.ok);
    const bad = validateConfig(withValue(ship, 'parityLog.buffer', 'lots'));
    expect(!bad.ok && bad.issues.map((i) => i.path)).toEqual(['parityLog.buffer']);
  });

  it('through the real nginx: lines wait in the buffer, come out within flush, and a reload writes what is buffered', async () => {
    // A flush far longer than the test: only the reload can write these lines.
    const held = await startShadowStack({ editConfig: (raw) => void ((raw.mirror.transport = 'ship'), (raw.parityLog.buffer = '64k'), (raw.parityLog.flush = '10m')) });
    stacks.push(held);
    const sent = await sendCallbacks(held.callbackUrl, [0, 1, 2].map((i) => trickyCallback(bizppurio, i)), { connections: 1 });
    expect(sent.every((r) => r.status === 200)).toBe(true);
    expect(held.origin.requests, 'the origin got every callback').toHaveLength(3);
    expect((await stat(held.parityLogPath).catch(() => ({ size: 0 }))).size, 'nothing written yet: the lines are in the buffer').toBe(0);
    await held.nginx.reload();
    await waitFor(async () => (await lineCount(held.parityLogPath)) === 3, { timeoutMs: 10_000, what: 'the reload writing the 3 buffered lines' });

    const flushed = await startShadowStack({ editConfig: (raw) => void ((raw.mirror.transport = 'ship'), (raw.parityLog.buffer = '64k'), (raw.parityLog.flush = '100ms')) });
    stacks.push(flushed);
    await sendCallbacks(flushed.callbackUrl, [trickyCallback(bizppurio, 7)], { connections: 1 });
    await waitFor(async () => (await lineCount(flushed.parityLogPath)) === 1, { timeoutMs: 5_000, what: 'the flush timer writing the line' });
  });
});
