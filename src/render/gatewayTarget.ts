/** Pure: the API Gateway host and path a phase talks to (nginx's mirror or proxy, and `mirror ship`). */
import type { MirrorConfig } from '../config/types.js';
import type { Phase } from '../config/phases.js';

/** The API Gateway host and path nginx talks to in a phase. */
export interface GatewayTarget {
  host: string;
  port: number;
  /** Path on that host, stage or base path included, no query. */
  uri: string;
}

export function gatewayTarget(config: MirrorConfig, phase: Phase): GatewayTarget | undefined {
  const { apiGateway: gw } = config;
  if (phase === 'off') return undefined;
  if (phase === 'shadow') {
    return { host: `${gw.restApiId}.execute-api.${gw.region}.amazonaws.com`, port: gw.port, uri: `/${gw.stage}${gw.resourcePath}` };
  }
  if (!gw.customDomain) throw new Error(`apiGateway.customDomain is required for the ${phase} phase`);
  return { host: gw.customDomain, port: gw.port, uri: `${gw.basePath ? `/${gw.basePath}` : ''}${gw.resourcePath}` };
}
