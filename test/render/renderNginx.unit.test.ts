import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/config/validate.js';
import type { MirrorConfig } from '../../src/config/types.js';
import { phases, type Phase } from '../../src/config/phases.js';
import { gatewayTarget, renderNginx, type RenderedNginx } from '../../src/render/nginxConfig.js';
import { loadTemplates } from '../../src/render/templates.js';
import { exampleConfig, withValue, type RawConfigTree } from '../support/config.js';

function configFrom(raw: RawConfigTree): MirrorConfig {
  const result = validateConfig(raw);
  if (!result.ok) throw new Error(JSON.stringify(result.issues));
  return result.config;
}

async function render(raw: RawConfigTree, phase: Phase): Promise<RenderedNginx> {
  return renderNginx(configFrom(raw), phase, await loadTemplates('nginx'));
}

function serverFile(rendered: RenderedNginx): string {
  return rendered.files.find((f) => f.context === 'server')!.contents;
}
function httpFile(rendered: RenderedNginx): string {
  return rendered.files.find((f) => f.context === 'http')!.contents;
}

/** The example config with the fixture CA replaced by a stable path, for snapshots. */
function snapshotConfig(): RawConfigTree {
  return withValue(withValue(exampleConfig(), 'apiGateway.trustedCertificate', '/etc/ssl/certs/ca-certificates.crt'), 'apiGateway.basePath', 'v1');
}

describe('mirror render (nginx)', () => {
  it.each(phases)('renders the %s phase as the snapshot', async (phase) => {
    const rendered = await render(snapshotConfig(), phase);
    expect(rendered.files.map((f) => [f.name, f.context])).toEqual([
      ['mirror-bizppurio.http.conf', 'http'],
      ['mirror-bizppurio.server.conf', 'server'],
    ]);
    for (const file of rendered.files) {
      await expect(file.contents).toMatchFileSnapshot(`__snapshots__/${phase}/${file.name}`);
    }
  });

  it('maps the path: stage on the execute-api host, base path on the custom domain, no double slash', () => {
    const config = configFrom(snapshotConfig());
    expect(gatewayTarget(config, 'shadow')).toEqual({
      host: 'a1b2c3d4e5.execute-api.ap-northeast-2.amazonaws.com',
      port: 443,
      uri: '/dev/kakao-at-result',
    });
    expect(gatewayTarget(config, 'shadow-domain')).toEqual({ host: 'callbacks.example.com', port: 443, uri: '/v1/kakao-at-result' });
    const noBase = configFrom(withValue(snapshotConfig(), 'apiGateway.basePath', ''));
    expect(gatewayTarget(noBase, 'shadow-domain')!.uri).toBe('/kakao-at-result');
    expect(gatewayTarget(noBase, 'off')).toBeUndefined();
  });

  it('keeps the query string and puts a non-443 port in proxy_pass only', async () => {
    const server = serverFile(await render(withValue(snapshotConfig(), 'apiGateway.port', 8443), 'shadow'));
    expect(server).toContain('proxy_pass https://$mirror_bizppurio_target:8443/dev/kakao-at-result$is_args$args;');
    expect(server).toContain('proxy_set_header Host $mirror_bizppurio_target;');
  });

  it('the mirror location is internal, exact-match, carries the resolver and holds the host in a variable', async () => {
    const server = serverFile(await render(snapshotConfig(), 'shadow'));
    const mirrorLocation = server.slice(server.indexOf('location = /_mirror/bizppurio {'));
    expect(mirrorLocation).toMatch(/^location = \/_mirror\/bizppurio \{\n\s+internal;/);
    expect(mirrorLocation).toContain('resolver 169.254.169.253 valid=10s ipv6=off;');
    expect(mirrorLocation).toContain('resolver_timeout 5s;');
    expect(mirrorLocation).toContain('set $mirror_bizppurio_target "a1b2c3d4e5.execute-api.ap-northeast-2.amazonaws.com";');
    expect(mirrorLocation).not.toMatch(/proxy_pass https:\/\/a1b2c3d4e5/);
    expect(mirrorLocation).toContain('proxy_set_header X-Mirror-Request-Id $request_id;');
  });

  it('asks AAAA only when ipv6 is enabled, and lists every resolver address', async () => {
    const raw = withValue(withValue(snapshotConfig(), 'resolver.ipv6', true), 'resolver.addresses', ['10.0.0.2', '[fd00::2]:5353']);
    expect(serverFile(await render(raw, 'shadow'))).toContain('resolver 10.0.0.2 [fd00::2]:5353 valid=10s;');
  });

  it.each([
    [0, 'map $request_id $mirror_bizppurio_sampled {\n    default "";\n}'],
    [100, 'map $request_id $mirror_bizppurio_sampled {\n    default "1";\n}'],
    [37, 'split_clients "${request_id}" $mirror_bizppurio_sampled {\n    37% "1";\n    * "";\n}'],
  ])('samples %i%% of callbacks', async (sample, expected) => {
    expect(httpFile(await render(withValue(snapshotConfig(), 'mirror.sample', sample), 'shadow'))).toContain(expected);
  });

  it('leaves the body out of the parity log when parityLog.body is false', async () => {
    const withBody = httpFile(await render(snapshotConfig(), 'shadow'));
    const without = httpFile(await render(withValue(snapshotConfig(), 'parityLog.body', false), 'shadow'));
    expect(withBody).toContain('"body":"$request_body"');
    expect(without).not.toContain('$request_body');
  });

  it('off keeps proxying to the origin with no mirror; primary proxies to the custom domain and mirrors to the origin', async () => {
    const off = serverFile(await render(snapshotConfig(), 'off'));
    expect(off).not.toMatch(/^\s*mirror /m);
    expect(off).toContain('proxy_pass http://127.0.0.1:8080;');
    const primary = serverFile(await render(snapshotConfig(), 'primary'));
    expect(primary).toContain('mirror /_mirror/bizppurio_origin;');
    expect(primary).toContain('proxy_pass https://$mirror_bizppurio_target/v1/kakao-at-result$is_args$args;');
    expect(primary).toMatch(/location = \/_mirror\/bizppurio_origin \{\n\s+internal;\n[\s\S]*rewrite \^ \/api\/kakao\/result break;\n[\s\S]*proxy_pass http:\/\/127\.0\.0\.1:8080;/);
    const direct = serverFile(await render(snapshotConfig(), 'direct'));
    expect(direct).not.toMatch(/^\s*mirror /m);
    expect(direct).toContain('proxy_pass https://$mirror_bizppurio_target/v1/kakao-at-result$is_args$args;');
  });

  it('verifies an https origin with SNI', async () => {
    const server = serverFile(await render(withValue(snapshotConfig(), 'callback.upstream', 'https://origin.internal:8443'), 'off'));
    expect(server).toContain('proxy_pass https://origin.internal:8443;\n    proxy_ssl_server_name on;\n    proxy_ssl_verify on;');
  });
});
