/**
 * Every value that reaches nginx config is whitelisted: a hostile value is refused
 * with exit 2 naming its key, and nothing is rendered. The serializer refuses the
 * same values even when validation is bypassed (the second lock).
 */
import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runRender } from '../../src/commands/render.js';
import { ConfigError, ExitCode } from '../../src/errors.js';
import { validateConfig } from '../../src/config/validate.js';
import { renderNginx } from '../../src/render/nginxConfig.js';
import { loadTemplates } from '../../src/render/templates.js';
import { UnsafeNginxValueError } from '../../src/render/nginxArg.js';
import { exampleConfig, withValue, writeConfigFile } from '../support/config.js';

/** Keys whose values end up in a rendered nginx file, with a valid base value. */
const nginxKeys: Record<string, string> = {
  name: 'bizppurio',
  'callback.path': '/api/kakao/result',
  'callback.upstream': 'http://127.0.0.1:8080',
  'callback.bodyBufferSize': '64k',
  'callback.trustedCertificate': '/etc/ssl/certs/ca-certificates.crt',
  'apiGateway.restApiId': 'a1b2c3d4e5',
  'apiGateway.region': 'ap-northeast-2',
  'apiGateway.stage': 'dev',
  'apiGateway.resourcePath': '/kakao-at-result',
  'apiGateway.customDomain': 'callbacks.example.com',
  'apiGateway.basePath': 'v1',
  'apiGateway.trustedCertificate': '/etc/ssl/certs/ca-certificates.crt',
  'apiGateway.apiKeyFile': '/etc/nginx/mirror/api-key.conf',
  'resolver.addresses.0': '169.254.169.253',
  'resolver.valid': '10s',
  'resolver.timeout': '5s',
  'mirror.connectTimeout': '1s',
  'mirror.sendTimeout': '1s',
  'mirror.readTimeout': '2s',
  'mirror.requestIdHeader': 'X-Mirror-Request-Id',
  'parityLog.path': '/var/log/nginx/mirror-parity.log',
};

const hostileInsertions = [';', '{', '}', '"', "'", ' ', '\t', '$', '#', '\n', '\r', '\u0000', '\u001b', '\\', '`'];

/** Realistic attacks: close the directive, open a location, comment out the rest. */
const hostileValues: [string, string][] = [
  ['callback.path', '/api/kakao/result; } location / { return 200 "pwned"; } #'],
  ['apiGateway.stage', 'dev/x$request_uri'],
  ['apiGateway.customDomain', 'callbacks.example.com"; proxy_pass http://evil'],
  ['resolver.addresses.0', '1.1.1.1 valid=1s; include /etc/passwd'],
  ['mirror.requestIdHeader', 'X-Id $request_id; proxy_set_header Host evil'],
  ['parityLog.path', '/var/log/nginx/p.log main; access_log /tmp/x'],
  ['resolver.valid', '10s ipv6=on'],
  ['callback.upstream', 'http://127.0.0.1:8080;return 200'],
];

const table: [string, string][] = [
  ...Object.entries(nginxKeys).flatMap(([key, base]) =>
    hostileInsertions.map((c): [string, string] => [key, key === 'name' ? `${base}${c}x` : `${base}${c}x`]),
  ),
  ...hostileValues,
];

describe('hostile config values', () => {
  it.each(table)('%s = %j is refused, naming the key', (key, value) => {
    const result = validateConfig(withValue(exampleConfig(), key, value));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues.map((i) => i.path)).toContain(key);
  });

  it('never reaches a rendered file: mirror render exits 2 and writes nothing', async () => {
    // A sample of the table through the real command, to the file system.
    for (const [key, value] of [...hostileValues, ...table.filter((_, i) => i % 17 === 0)]) {
      const configPath = await writeConfigFile(withValue(exampleConfig(), key, value));
      const out = join(await mkdtemp(join(tmpdir(), 'mirror-render-')), 'out');
      const attempt = runRender({ config: configPath, out, phase: 'shadow' });
      await expect(attempt).rejects.toBeInstanceOf(ConfigError);
      await attempt.catch((error: ConfigError) => {
        expect(error.exitCode).toBe(ExitCode.usage);
        expect(error.issues.map((i) => i.path)).toContain(key);
      });
      await expect(readdir(out)).rejects.toMatchObject({ code: 'ENOENT' });
    }
  });

  it('is refused by the serializer too when validation is bypassed', async () => {
    const templates = await loadTemplates('nginx');
    const valid = validateConfig(exampleConfig());
    if (!valid.ok) throw new Error('example config must validate');
    const bypassed = [
      { ...valid.config, callback: { ...valid.config.callback, path: '/x; return 200' } },
      { ...valid.config, resolver: { ...valid.config.resolver, addresses: ['1.1.1.1;'] } },
      { ...valid.config, mirror: { ...valid.config.mirror, requestIdHeader: 'X-Id"' } },
      { ...valid.config, apiGateway: { ...valid.config.apiGateway, stage: 'dev$x' } },
    ];
    for (const config of bypassed) {
      expect(() => renderNginx(config, 'shadow', templates)).toThrow(UnsafeNginxValueError);
    }
  });
});
