/**
 * `mirror ship`: the transport `mirror.transport: ship` runs. Follows the parity
 * logs nginx writes and sends each sampled shadow-phase callback to API Gateway,
 * at least once, until the signal aborts (SIGTERM/SIGINT in the CLI); then it
 * finishes the attempts on the wire and writes the checkpoint.
 */
import { createServer, type Server } from 'node:http';
import { readFile } from 'node:fs/promises';
import { removeStaleTemps } from '../fs/atomicWrite.js';
import { acquireLock } from '../fs/stateLock.js';
import { ExitCode, MissingDependencyError, UsageError } from '../errors.js';
import { loadConfig } from '../config/load.js';
import type { MirrorConfig } from '../config/types.js';
import { durationToMs } from '../config/nginxValues.js';
import { gatewayTarget } from '../render/gatewayTarget.js';
import { probeHeader } from '../wire/contract.js';
import { parseHostPort } from '../flags/options.js';
import { ParityLogTail } from '../ship/parityLogTail.js';
import { createGatewaySender } from '../ship/gatewaySender.js';
import { AckLog, readCheckpoint, recentlyAnswered, writeCheckpoint } from '../ship/shipFiles.js';
import { ShipMetrics } from '../ship/shipMetrics.js';
import { Shipper, type ShipSummary, type ShipTarget } from '../ship/shipper.js';
import { startOffset } from '../ship/shipCheckpoint.js';
import { formatShipStatus } from '../ship/shipStatus.js';
import type { ShipTargetName } from '../ship/shipLine.js';

export interface ShipOptions {
  config?: string;
  /** Parity logs or globs to follow (default: parityLog.path). Name rotated files too (`parity.log*`) so a restart finds them. */
  parityLog?: string[];
  /** host:port for /metrics (default: ship.listen; port 0 picks a free one). */
  listen?: string;
  signal: AbortSignal;
  /** Where status lines go (default stderr). */
  print?: (text: string, redraw: boolean) => void;
  /** Redraw one status line in place (a terminal), or one line per interval; default: whether stderr is a terminal. */
  terminal?: boolean;
  onListening?: (address: { host: string; port: number }) => void;
  /**
   * Called once the config is read, before anything is opened or locked: the CLI
   * runs itself again there under the unit's memory settings (ship.command.ts).
   */
  beforeStart?: (config: MirrorConfig) => void;
}

export interface ShipResult extends ShipSummary {
  exitCode: ExitCode;
  checkpoint: string;
  ackLog: string;
}

export async function runShip(options: ShipOptions): Promise<ShipResult> {
  const { config } = await loadConfig(options.config);
  if (config.mirror.transport !== 'ship') {
    throw new UsageError('mirror.transport is nginx: nginx mirrors each callback itself; set mirror.transport: ship to run the shipper');
  }
  options.beforeStart?.(config);
  const settings = config.ship;
  const { host, port } = parseHostPort(options.listen ?? settings.listen, options.listen ? '--listen' : 'ship.listen', { listen: true, example: '127.0.0.1:9465' });
  let ca: string;
  try {
    ca = await readFile(config.apiGateway.trustedCertificate, 'utf8');
  } catch (error) {
    throw new MissingDependencyError(
      `cannot read apiGateway.trustedCertificate ${config.apiGateway.trustedCertificate} (${(error as NodeJS.ErrnoException).code}): the shipper verifies API Gateway's certificate with it`,
    );
  }
  const targets: Partial<Record<ShipTargetName, ShipTarget>> = { 'execute-api': gatewayTarget(config, 'shadow')! };
  if (config.apiGateway.customDomain) targets['custom-domain'] = gatewayTarget(config, 'shadow-domain')!;

  // One shipper per checkpoint: a second would send every callback again and
  // overwrite the first one's checkpoint. Under the lock, what a killed shipper's
  // checkpoint write left behind is ours to remove.
  const lock = await acquireLock(settings.checkpoint, 'mirror ship', 'another mirror ship', "so two shippers never send the same callbacks or overwrite each other's checkpoint");
  try {
    return await shipUnderLock(options, config, { host, port }, ca, targets);
  } finally {
    // Also when start-up fails (a corrupt checkpoint, an unwritable ack log): a later run in this process may take it.
    await lock.release();
  }
}

async function shipUnderLock(
  options: ShipOptions,
  config: MirrorConfig,
  { host, port }: { host: string; port: number },
  ca: string,
  targets: Partial<Record<ShipTargetName, ShipTarget>>,
): Promise<ShipResult> {
  const settings = config.ship;
  await removeStaleTemps(settings.checkpoint);
  const checkpoint = await readCheckpoint(settings.checkpoint);
  const alreadyAnswered = checkpoint ? await recentlyAnswered(settings.ackLog) : new Set<string>();
  const ackLog = await AckLog.open(settings.ackLog);
  const metrics = new ShipMetrics();
  const sender = createGatewaySender({
    ca,
    connectTimeoutMs: durationToMs(settings.connectTimeout),
    requestTimeoutMs: durationToMs(settings.requestTimeout),
    dnsServers: config.resolver.addresses,
    ipv6: config.resolver.ipv6,
    connections: Math.min(settings.window, settings.connections),
  });
  let shipper: Shipper | undefined;
  const tail = new ParityLogTail(options.parityLog?.length ? options.parityLog : [config.parityLog.path], {
    startAt: (fileId, size) => {
      const offset = startOffset(checkpoint, fileId, size);
      shipper!.startFile(fileId, offset);
      return offset;
    },
    onTruncated: (fileId) => shipper!.startFile(fileId, 0),
  });
  shipper = new Shipper(
    {
      window: settings.window,
      // Well inside the bound cutover advance reads it against.
      checkpointHeartbeatMs: Math.min(5000, durationToMs(settings.maxCheckpointAge) / 4),
      alreadyAnswered,
      targets,
      requestIdHeader: config.mirror.requestIdHeader,
      probeHeader,
      backoff: {
        retries: settings.retries,
        minBackoffMs: durationToMs(settings.minBackoff),
        maxBackoffMs: durationToMs(settings.maxBackoff),
        giveUpAfterMs: durationToMs(settings.giveUpAfter),
      },
    },
    { tail, sender, ackLog, metrics, saveCheckpoint: (files) => writeCheckpoint(settings.checkpoint, files, new Date()) },
  );

  let server: Server | undefined;
  let statusTimer: NodeJS.Timeout | undefined;
  try {
    server = await serveMetrics(metrics, host, port, () => shipper!.status());
    const address = server.address();
    options.onListening?.({ host, port: typeof address === 'object' && address ? address.port : port });
    const terminal = options.terminal ?? Boolean(process.stderr.isTTY);
    const print = options.print ?? ((text: string, redraw: boolean) => process.stderr.write(redraw ? `\r\x1b[2K${text}` : `${text}\n`));
    const intervalMs = terminal ? 1000 : durationToMs(settings.statusInterval);
    statusTimer = setInterval(() => {
      shipper!
        .status()
        .then((status) => print(formatShipStatus(status), terminal))
        .catch(() => undefined);
    }, intervalMs);
    const summary = await shipper.run(options.signal);
    const final = await shipper.status();
    print(formatShipStatus(final), false);
    return { exitCode: ExitCode.ok, ...summary, checkpoint: settings.checkpoint, ackLog: settings.ackLog };
  } finally {
    if (statusTimer) clearInterval(statusTimer);
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    await tail.close();
    await ackLog.close();
    await sender.close();
  }
}

export function formatShipText(result: ShipResult): string {
  const lines = [
    `ship stopped: delivered ${result.delivered}, rejected ${result.rejected}, gave up ${result.gaveUp}, body not captured ${result.notCaptured}, ` +
      `${result.attempts} attempts (${result.retries} retries); ${result.unfinishedAtStop} unanswered at stop will be sent again on restart`,
    `  checkpoint ${result.checkpoint}  ack log ${result.ackLog}`,
  ];
  if (result.notCapturedIds.length > 0) {
    lines.push(`  body not captured (request ids, first ${result.notCapturedIds.length}): ${result.notCapturedIds.join(' ')}`);
    lines.push('  raise callback.bodyBufferSize above the largest callback so nginx logs every body');
  }
  return lines.join('\n');
}

function serveMetrics(metrics: ShipMetrics, host: string, port: number, refresh: () => Promise<unknown>): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    // The gauges (lag, backlog, checkpoint age) are read fresh for each scrape.
    refresh()
      .catch(() => undefined)
      .then(() => metrics.registry.metrics())
      .then((text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text))
      .catch(() => res.writeHead(500).end());
  });
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(new UsageError(`listen ${host}:${port}: ${error.code === 'EADDRINUSE' ? 'the port is in use' : error.message}; expected a free host:port`)),
    );
    server.listen(port, host, () => resolve(server));
  });
}
