/**
 * The nginx side of the core loop, on one machine, from real parts: the real
 * nginx running the rendered include files, an origin, a real DNS server (dnsmasq)
 * resolving the execute-api host and the custom domain to 127.0.0.1, and an HTTPS
 * target whose certificate a throwaway CA signed. Everything binds 127.0.0.1 on a
 * free port; `stop()` ends every process, in any state.
 *
 * Used by `mirror demo`, the end-to-end tests and the benchmark. The `resolver`
 * option reproduces the seed's failures: `none` strips the resolver from the
 * rendered mirror location, `silent` points it at a UDP socket that never answers.
 */
import { createSocket, type Socket } from 'node:dgram';
import { readFile } from 'node:fs/promises';
import { validateConfig } from '../config/validate.js';
import type { MirrorConfig } from '../config/types.js';
import type { Phase } from '../config/phases.js';
import { renderNginx, gatewayTarget, type RenderedNginx } from '../render/nginxConfig.js';
import { loadTemplates } from '../render/templates.js';
import { writeHarness, type Harness } from '../nginx/harness.js';
import { startNginx, type NginxProcess } from '../nginx/nginxProcess.js';
import { findNginx } from '../nginx/nginxBinary.js';
import { parseParityLogLine, type ParsedLine } from '../verify/engine/parityLogLine.js';
import { createTestCa, type TestCa } from './testCa.js';
import { startDnsServer, type DnsServer } from './dnsServer.js';
import { startRecordingServer, type RecordingServer } from './recordingServer.js';
import { freePort } from '../os/freePort.js';
import { waitFor } from '../os/childProcess.js';
import { sandboxHostNames, sandboxRawConfig } from './sandboxConfig.js';

type ResolverMode = 'dnsmasq' | 'none' | 'silent';

export interface ShadowStackOptions {
  nginxPath?: string;
  /** The phase nginx starts in (cutover walks it on from there). */
  phase?: Phase;
  sample?: number;
  resolver?: ResolverMode;
  /** resolver_timeout, e.g. `1s` so a silent resolver fails fast in a test. */
  resolverTimeout?: string;
  /** Add server-level proxy_set_header lines that must not leak into the mirror. */
  serverLevelHeaders?: boolean;
  targetDelayMs?: number;
  workerProcesses?: number;
  /**
   * The user's mirror.yaml as a raw tree: its names run in the sandbox, the example
   * fills what it leaves out, only the local parts are replaced (sandboxConfig.ts).
   */
  userConfig?: Record<string, any>;
  /** Change the raw config before it is validated (tests). */
  editConfig?: (raw: Record<string, any>) => void;
  /**
   * What answers for API Gateway instead of the recording HTTPS server: given the
   * test CA (its certificate covers both host names), it starts and returns a port.
   */
  gateway?: (ca: TestCa) => Promise<{ port: number; stop(): Promise<void> }>;
}

export interface ShadowStack {
  config: MirrorConfig;
  /** The raw config tree the stack validated (after editConfig): what a mirror.yaml for it holds. */
  rawConfig: Record<string, any>;
  phase: Phase;
  rendered: RenderedNginx;
  harness: Harness;
  nginx: NginxProcess;
  origin: RecordingServer;
  /** The recording HTTPS server, when no `gateway` was given. */
  target?: RecordingServer;
  gatewayPort: number;
  dns?: DnsServer;
  ca: TestCa;
  /** Where the vendor POSTs: http://127.0.0.1:port/{callback.path}. */
  callbackUrl: string;
  /** The host name the mirror resolves and the path it requests. */
  gateway: { host: string; path: string };
  parityLogPath: string;
  readParityLog(): Promise<ParsedLine[]>;
  waitForParityLines(n: number, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startShadowStack(options: ShadowStackOptions = {}): Promise<ShadowStack> {
  const phase = options.phase ?? 'shadow';
  const nginxPath = await findNginx(options.nginxPath);
  const cleanups: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  };
  try {
    // The user's names (or the example's): the DNS server and the test CA answer for them.
    const { executeApiHost, customDomain } = sandboxHostNames(options.userConfig ?? {});
    const ca = await createTestCa([executeApiHost, customDomain]);
    cleanups.push(ca.remove);
    const origin = await startRecordingServer({ responseBody: '{"code":"0000"}' });
    cleanups.push(origin.close);
    let target: RecordingServer | undefined;
    let gatewayPort: number;
    if (options.gateway) {
      const gateway = await options.gateway(ca);
      cleanups.push(gateway.stop);
      gatewayPort = gateway.port;
    } else {
      target = await startRecordingServer({
        tls: { cert: ca.cert, key: ca.key },
        responseBody: '{"SendMessageResponse":{}}',
        ...(options.targetDelayMs ? { delayMs: options.targetDelayMs } : {}),
      });
      cleanups.push(target.close);
      gatewayPort = target.port;
    }

    let resolverAddress: string;
    let dns: DnsServer | undefined;
    const mode = options.resolver ?? 'dnsmasq';
    if (mode === 'silent') {
      const socket = await silentUdpSocket();
      cleanups.push(() => new Promise<void>((resolve) => socket.close(() => resolve())));
      resolverAddress = `127.0.0.1:${socket.address().port}`;
    } else {
      dns = await startDnsServer({ [executeApiHost]: '127.0.0.1', [customDomain]: '127.0.0.1' }, { localDomains: ['amazonaws.com', 'example.com'] });
      cleanups.push(dns.stop);
      resolverAddress = dns.address;
    }

    const listenPort = await freePort();
    let rendered: RenderedNginx | undefined;
    let config: MirrorConfig | undefined;
    let rawConfig: Record<string, any> | undefined;
    const templates = await loadTemplates('nginx');
    const harness = await writeHarness({
      listen: `127.0.0.1:${listenPort}`,
      workerProcesses: options.workerProcesses ?? 1,
      serverLevelHeaders: options.serverLevelHeaders ?? false,
      errorLogLevel: 'warn',
      render: (prefix) => {
        const raw = sandboxRawConfig({
          originUrl: origin.url,
          targetPort: gatewayPort,
          trustedCertificate: ca.caPath,
          resolverAddress,
          resolverTimeout: options.resolverTimeout ?? '5s',
          parityLogPath: `${prefix}/logs/parity.log`,
          ...(options.sample !== undefined ? { sample: options.sample } : {}),
          phase,
        }, options.userConfig);
        options.editConfig?.(raw);
        rawConfig = structuredClone(raw);
        const result = validateConfig(raw, phase);
        if (!result.ok) throw new Error(`sandbox config is invalid: ${result.issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`);
        config = result.config;
        rendered = renderNginx(config, phase, templates);
        if (mode === 'none') rendered = withoutResolver(rendered);
        return rendered;
      },
    });
    cleanups.push(harness.remove);
    const nginx = await startNginx(nginxPath, harness);
    cleanups.push(nginx.stop);
    // In `off` nothing goes to API Gateway yet; name the host the next phase will use.
    const gateway = gatewayTarget(config!, phase === 'off' ? 'shadow' : phase)!;
    const parityLogPath = config!.parityLog.path;
    const readParityLog = async () => {
      const text = await readFile(parityLogPath, 'utf8').catch(() => '');
      return text
        .split('\n')
        .filter((line) => line.length > 0)
        .map((line, i) => parseParityLogLine(line, { file: parityLogPath, line: i + 1 }));
    };
    return {
      config: config!,
      rawConfig: rawConfig!,
      phase,
      rendered: rendered!,
      harness,
      nginx,
      origin,
      ...(target ? { target } : {}),
      gatewayPort,
      ...(dns ? { dns } : {}),
      ca,
      callbackUrl: `http://127.0.0.1:${listenPort}${config!.callback.path}`,
      gateway: { host: gateway.host, path: gateway.uri },
      parityLogPath,
      readParityLog,
      waitForParityLines: (n, timeoutMs = 30_000) =>
        waitFor(async () => (await readParityLog()).length >= n, { timeoutMs, what: `${n} lines in the parity log ${parityLogPath}` }),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The seed's mistake: a variable proxy_pass with no resolver in scope. */
function withoutResolver(rendered: RenderedNginx): RenderedNginx {
  return {
    ...rendered,
    files: rendered.files.map((file) => ({
      ...file,
      contents: file.contents
        .split('\n')
        .filter((line) => !/^\s*resolver(_timeout)?\s/.test(line))
        .join('\n'),
    })),
  };
}

/** A "DNS server" that takes every query and never answers. */
function silentUdpSocket(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    socket.once('error', reject);
    socket.on('message', () => undefined);
    socket.bind(0, '127.0.0.1', () => resolve(socket));
  });
}
