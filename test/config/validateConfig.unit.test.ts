import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/config/validate.js';
import { parseConfigText } from '../../src/config/load.js';
import { starterConfigText } from '../../src/config/starterConfig.js';
import { vendorPreset } from '../../src/vendors/index.js';
import { ConfigError } from '../../src/errors.js';
import { exampleConfig, withValue } from '../support/config.js';

describe('validateConfig', () => {
  it('accepts the contract example and fills in the derived values', () => {
    const result = validateConfig(exampleConfig());
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.config.name).toBe('bizppurio');
    expect(result.config.apiGateway.resourcePath).toBe('/kakao-at-result');
    expect(result.config.sqs.queue).toEqual({
      url: 'https://sqs.ap-northeast-2.amazonaws.com/123456789012/kakao-at-result',
      accountId: '123456789012',
      name: 'kakao-at-result',
      region: 'ap-northeast-2',
    });
    expect(result.config.origin).toEqual({ scheme: 'http', host: '127.0.0.1', port: 8080, isAddress: true });
  });

  it('defaults resourcePath to callback.path and strips slashes around basePath', () => {
    const raw = withValue(withValue(exampleConfig(), 'apiGateway.resourcePath', undefined), 'apiGateway.basePath', '/v1/');
    const result = validateConfig(raw);
    expect(result.ok && result.config.apiGateway).toMatchObject({ resourcePath: '/api/kakao/result', basePath: 'v1' });
  });

  it('names the key path and what was expected for a missing key', () => {
    const raw = exampleConfig();
    delete (raw.apiGateway as Record<string, unknown>).region;
    const result = validateConfig(raw);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues).toEqual([{ path: 'apiGateway.region', message: expect.stringMatching(/required/) }]);
  });

  it('refuses a misspelt key instead of silently using a default', () => {
    const raw = withValue(exampleConfig(), 'mirror.sampel', 50);
    const result = validateConfig(raw);
    expect(!result.ok && result.issues.map((i) => i.path)).toEqual(['mirror.sampel']);
  });

  it.each([
    ['mirror.sample', 101],
    ['mirror.sample', 12.5],
    ['apiGateway.port', 0],
    ['resolver.addresses', []],
    ['resolver.addresses.0', 'dns.google'],
    ['resolver.addresses.0', '10.0.0.2:99999'],
    ['callback.upstream', 'http://127.0.0.1:8080/api'],
    ['callback.upstream', 'ftp://origin'],
    ['sqs.queueUrl', 'https://sqs.ap-northeast-2.amazonaws.com/kakao-at-result'],
    ['phase', 'canary'],
    ['vendor', 'acme'],
  ])('refuses %s = %j', (path, value) => {
    const result = validateConfig(withValue(exampleConfig(), path, value));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues[0]!.path).toBe(path);
  });

  it('requires the custom domain only for the phases that use it', () => {
    const raw = withValue(exampleConfig(), 'apiGateway.customDomain', undefined);
    expect(validateConfig(raw, 'shadow').ok).toBe(true);
    for (const phase of ['shadow-domain', 'primary', 'direct'] as const) {
      const result = validateConfig(raw, phase);
      expect(!result.ok && result.issues.map((i) => i.path)).toEqual(['apiGateway.customDomain']);
    }
  });

  it('refuses a FIFO queue and a request-id header HTTP already uses', () => {
    const fifo = validateConfig(withValue(exampleConfig(), 'sqs.queueUrl', 'https://sqs.ap-northeast-2.amazonaws.com/123456789012/q.fifo'));
    expect(!fifo.ok && fifo.issues[0]!.path).toBe('sqs.queueUrl');
    const header = validateConfig(withValue(exampleConfig(), 'mirror.requestIdHeader', 'Content-Type'));
    expect(!header.ok && header.issues[0]!.path).toBe('mirror.requestIdHeader');
  });

  it('warns, without failing, on mirror timeouts over 5s and a body-less parity log', () => {
    const raw = withValue(withValue(exampleConfig(), 'mirror.readTimeout', '30s'), 'parityLog.body', false);
    const result = validateConfig(raw);
    expect(result.ok && result.warnings.map((w) => w.path)).toEqual(['mirror.readTimeout', 'parityLog.body']);
  });
});

describe('the YAML loader', () => {
  it('reports a YAML syntax error with its line', () => {
    expect(() => parseConfigText('vendor: bizppurio\ncallback: [unclosed\n', 'bad.yaml')).toThrow(ConfigError);
    try {
      parseConfigText('vendor: bizppurio\ncallback: [unclosed\n', 'bad.yaml');
    } catch (error) {
      expect((error as ConfigError).details[0]).toMatch(/^line \d+: invalid YAML/);
    }
  });

  it('refuses duplicate keys rather than keeping the last one', () => {
    try {
      parseConfigText('vendor: bizppurio\nvendor: bizppurio\n', 'dup.yaml');
      expect.unreachable('a duplicate key was accepted');
    } catch (error) {
      expect((error as ConfigError).details).toEqual([expect.stringMatching(/^line 2: invalid YAML: Map keys must be unique/)]);
    }
  });
});

describe('the starter config of mirror init', () => {
  it('is a valid config with a comment on every key it writes', () => {
    const text = starterConfigText(vendorPreset('bizppurio'));
    expect(() => parseConfigText(text, 'starter')).not.toThrow();
    const keyLines = text.split('\n').filter((line) => /^\s*[A-Za-z]+:/.test(line));
    expect(keyLines.length).toBeGreaterThan(25);
    const lines = text.split('\n');
    for (const line of keyLines) {
      const previous = lines[lines.indexOf(line) - 1] ?? '';
      const next = lines[lines.indexOf(line) + 1] ?? '';
      const commented = line.includes(' # ') || previous.trim().startsWith('#') || next.trim().startsWith('#');
      expect(commented, `no comment for: ${line}`).toBe(true);
    }
  });
});
