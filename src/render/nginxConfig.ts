/**
 * Pure: config + phase + templates in, the two nginx include files out. No file
 * system, no process: the render, validate and cutover commands do the writing.
 */
import { answersLogPath } from '../config/answersLogPath.js';
import Handlebars from 'handlebars';
import type { MirrorConfig } from '../config/types.js';
import type { Phase } from '../config/phases.js';
import type { TemplateSet } from './templates.js';
import { nginxArg } from './nginxArg.js';
import { probeHeader } from '../wire/contract.js';
import { gatewayTarget, type GatewayTarget } from './gatewayTarget.js';

// Here too for the modules that render and send (probe, sandbox); `mirror ship` imports
// ./gatewayTarget.js itself, so it does not load Handlebars.
export { gatewayTarget } from './gatewayTarget.js';

export type NginxContext = 'http' | 'server';

export interface RenderedFile {
  /** File name, e.g. `mirror-bizppurio.server.conf`. */
  name: string;
  /** Which nginx block its `include` line belongs in. */
  context: NginxContext;
  contents: string;
}

export interface RenderedNginx {
  phase: Phase;
  files: RenderedFile[];
}

export const phaseSummaries: Record<Phase, string> = {
  off: 'origin answers the vendor; API Gateway gets nothing; the parity log records every callback.',
  shadow: 'origin answers the vendor; a mirror of each sampled callback goes to the execute-api URL.',
  'shadow-domain': 'origin answers the vendor; a mirror of each sampled callback goes to the custom domain.',
  primary: 'API Gateway (custom domain) answers the vendor; the origin gets a mirror back.',
  direct: 'the vendor calls the custom domain itself; nginx forwards stragglers to it.',
};

export function nginxFileNames(config: Pick<MirrorConfig, 'name'>): Record<NginxContext, string> {
  return { http: `mirror-${config.name}.http.conf`, server: `mirror-${config.name}.server.conf` };
}

export function renderNginx(config: MirrorConfig, phase: Phase, templates: TemplateSet): RenderedNginx {
  const handlebars = Handlebars.create();
  for (const [name, source] of Object.entries(templates.partials)) handlebars.registerPartial(name, source);
  const view = nginxView(config, phase);
  const compile = (name: string) => {
    const source = templates.files[name];
    if (source === undefined) throw new Error(`template ${name}.hbs is missing from templates/nginx`);
    // noEscape: Handlebars' HTML escaping would corrupt nginx text; nginxArg guards instead.
    return handlebars.compile(source, { noEscape: true, strict: true })(view);
  };
  const names = nginxFileNames(config);
  return {
    phase,
    files: [
      { name: names.http, context: 'http', contents: tidy(compile('http.conf')) },
      { name: names.server, context: 'server', contents: tidy(compile('server.conf')) },
    ],
  };
}

/** Collapses the blank lines Handlebars leaves where a block was skipped. */
function tidy(text: string): string {
  return `${text.replace(/\n{3,}/g, '\n\n').trimEnd()}\n`;
}

function nginxView(config: MirrorConfig, phase: Phase) {
  const name = nginxArg(config.name, 'name');
  const names = {
    logFormat: `mirror_${name}_parity`,
    answersFormat: `mirror_${name}_answers`,
    sampledVar: `$mirror_${name}_sampled`,
    targetVar: `$mirror_${name}_target`,
  };
  const target = gatewayTarget(config, phase);
  const shadowsToGateway = phase === 'shadow' || phase === 'shadow-domain';
  // With transport ship nginx only logs: `mirror ship` sends each logged callback.
  const ships = shadowsToGateway && config.mirror.transport === 'ship';
  const mirrorsToGateway = shadowsToGateway && !ships;
  const mirrorsToOrigin = phase === 'primary';
  const sample = config.mirror.sample;
  return {
    phase,
    phaseSummary: ships
      ? phaseSummaries[phase].replace('a mirror of each sampled callback goes', 'nginx only logs; `mirror ship` sends each sampled callback from the parity log')
      : phaseSummaries[phase],
    names,
    callback: {
      path: nginxArg(config.callback.path, 'callback.path'),
      bodyBufferSize: nginxArg(config.callback.bodyBufferSize, 'callback.bodyBufferSize'),
    },
    parityLog: {
      path: nginxArg(config.parityLog.path, 'parityLog.path'),
      body: config.parityLog.body,
      buffer: config.parityLog.buffer ? { size: nginxArg(config.parityLog.buffer, 'parityLog.buffer'), flush: nginxArg(config.parityLog.flush, 'parityLog.flush') } : false,
      apigw: shadowsToGateway ? names.sampledVar : phase === 'off' ? '' : '1',
      // What the shipper needs beyond the body: the probe mark it forwards, and the
      // request's Content-Length, to tell an empty body from one nginx did not keep.
      ship: ships ? { probeHeaderVar: `$http_${probeHeader.toLowerCase().replace(/-/g, '_')}` } : false,
    },
    answersLog: { path: nginxArg(answersLogPath(config), 'parityLog.answersPath') },
    sampling: shadowsToGateway
      ? { split: sample > 0 && sample < 100, percent: sample, constant: sample === 100 ? '1' : '' }
      : false,
    mirror: mirrorsToGateway
      ? { location: `/_mirror/${name}`, toGateway: true }
      : mirrorsToOrigin
        ? { location: `/_mirror/${name}_origin`, toGateway: false }
        : false,
    callbackToGateway: phase === 'primary' || phase === 'direct',
    origin: {
      proxyPass: originProxyPass(config),
      https: config.origin.scheme === 'https',
      trustedCertificate: nginxArg(config.callback.trustedCertificate, 'callback.trustedCertificate'),
    },
    gateway: target && !ships ? gatewayView(config, target) : false,
  };
}

function originProxyPass(config: MirrorConfig): string {
  const { scheme, host, port } = config.origin;
  return `${scheme}://${nginxArg(host, 'callback.upstream')}${port ? `:${port}` : ''}`;
}

function gatewayView(config: MirrorConfig, target: GatewayTarget) {
  const { resolver, mirror, apiGateway } = config;
  const addresses = resolver.addresses.map((a, i) => nginxArg(a, `resolver.addresses.${i}`));
  const resolverArgs = [
    ...addresses,
    `valid=${nginxArg(resolver.valid, 'resolver.valid')}`,
    // Without ipv6=off nginx also asks AAAA; a resolver that refuses it fails the
    // whole lookup (FINDINGS.md, nginx fact 2).
    ...(resolver.ipv6 ? [] : ['ipv6=off']),
  ];
  return {
    host: nginxArg(target.host, 'apiGateway host'),
    portSuffix: target.port === 443 ? '' : `:${target.port}`,
    uri: nginxArg(target.uri, 'apiGateway path'),
    resolver: resolverArgs.join(' '),
    resolverTimeout: nginxArg(resolver.timeout, 'resolver.timeout'),
    requestIdHeader: nginxArg(mirror.requestIdHeader, 'mirror.requestIdHeader'),
    probeHeader,
    probeHeaderVar: probeHeader.toLowerCase().replace(/-/g, '_'),
    trustedCertificate: nginxArg(apiGateway.trustedCertificate, 'apiGateway.trustedCertificate'),
    connectTimeout: nginxArg(mirror.connectTimeout, 'mirror.connectTimeout'),
    sendTimeout: nginxArg(mirror.sendTimeout, 'mirror.sendTimeout'),
    readTimeout: nginxArg(mirror.readTimeout, 'mirror.readTimeout'),
    apiKeyFile: apiGateway.apiKeyFile ? nginxArg(apiGateway.apiKeyFile, 'apiGateway.apiKeyFile') : false,
  };
}
