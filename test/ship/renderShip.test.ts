/** `mirror.transport: ship`: the shadow phases render no `mirror`, only the logged callback location; real nginx -t and the lint accept it. */
import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/config/validate.js';
import type { MirrorConfig } from '../../src/config/types.js';
import { renderNginx } from '../../src/render/nginxConfig.js';
import { loadTemplates } from '../../src/render/templates.js';
import { runValidate } from '../../src/commands/validate.js';
import { ExitCode } from '../../src/errors.js';
import { exampleConfig, withValue, writeConfigFile, type RawConfigTree } from '../support/config.js';

const shipConfig = (): RawConfigTree =>
  withValue(withValue({ ...exampleConfig(), ship: {} }, 'mirror.transport', 'ship'), 'apiGateway.trustedCertificate', '/etc/ssl/certs/ca-certificates.crt');

function configFrom(raw: RawConfigTree): MirrorConfig {
  const result = validateConfig(raw);
  if (!result.ok) throw new Error(JSON.stringify(result.issues));
  return result.config;
}

describe('mirror.transport ship', () => {
  it('defaults to nginx, and the ship section has its defaults', () => {
    const config = configFrom(exampleConfig());
    expect(config.mirror.transport).toBe('nginx');
    expect(config.ship).toMatchObject({ checkpoint: '.mirror/ship-checkpoint.json', ackLog: '.mirror/ship-ack.log', listen: '127.0.0.1:9465', window: 256, connections: 64 });
  });

  it.each(['shadow', 'shadow-domain'] as const)('%s: no mirror, no resolver, the parity log carries body, probe mark and Content-Length (snapshot)', async (phase) => {
    const rendered = renderNginx(configFrom(shipConfig()), phase, await loadTemplates('nginx'));
    const server = rendered.files.find((f) => f.context === 'server')!.contents;
    const http = rendered.files.find((f) => f.context === 'http')!.contents;
    expect(server).not.toMatch(/^\s*mirror /m);
    expect(server).not.toMatch(/^\s*resolver /m);
    expect(server).toContain('access_log /var/log/nginx/mirror-parity.log mirror_bizppurio_parity;');
    expect(server).toContain('proxy_pass http://127.0.0.1:8080;');
    expect(http).toContain(',"probe":"$http_x_mirror_probe"');
    expect(http).toContain('"body":"$request_body","content_length":"$content_length"');
    expect(http).toContain('"body":"$request_body"');
    expect(http).toContain('"apigw":"$mirror_bizppurio_sampled"');
    for (const file of rendered.files) await expect(file.contents).toMatchFileSnapshot(`__snapshots__/${phase}/${file.name}`);
  });

  it('leaves the other phases as transport nginx renders them', async () => {
    const templates = await loadTemplates('nginx');
    for (const phase of ['off', 'primary', 'direct'] as const) {
      const ship = renderNginx(configFrom(shipConfig()), phase, templates);
      const nginx = renderNginx(configFrom(withValue(shipConfig(), 'mirror.transport', 'nginx')), phase, templates);
      expect(ship.files).toEqual(nginx.files);
    }
  });

  it('refuses ship without bodies in the parity log, naming the key', () => {
    const result = validateConfig(withValue(shipConfig(), 'parityLog.body', false));
    expect(result.ok).toBe(false);
    expect(!result.ok && result.issues).toEqual([
      { path: 'parityLog.body', message: expect.stringMatching(/mirror\.transport ship sends each callback from the parity log: expected parityLog\.body true/) },
    ]);
  });

  it('refuses a bad ship value naming its path', () => {
    const result = validateConfig(withValue(shipConfig(), 'ship.listen', 'everywhere'));
    expect(!result.ok && result.issues.map((i) => i.path)).toEqual(['ship.listen']);
    const backoff = validateConfig(withValue(withValue(shipConfig(), 'ship.minBackoff', '20s'), 'ship.maxBackoff', '1s'));
    expect(!backoff.ok && backoff.issues.map((i) => i.path)).toEqual(['ship.minBackoff']);
  });

  it.each(['shadow', 'shadow-domain'] as const)('%s with ship: the real nginx -t passes and the lint finds nothing', async (phase) => {
    const config = await writeConfigFile(withValue(withValue(exampleConfig(), 'mirror.transport', 'ship'), 'phase', phase));
    const result = await runValidate({ config });
    expect(result.nginxTest.messages.filter((m) => m.level !== 'notice')).toEqual([]);
    expect(result.nginxTest.ok).toBe(true);
    expect(result.lint.findings.filter((f) => f.severity !== 'info')).toEqual([]);
    expect(result.exitCode).toBe(ExitCode.ok);
  });
});
