/**
 * A real DNS server process, dnsmasq, answering only for the names it is given
 * (the execute-api host, the custom domain) on 127.0.0.1 and a free port. It reads
 * no /etc/hosts, no resolv.conf and forwards nothing, so a test never leaves the
 * machine. `--host-record` answers AAAA for an IPv4-only name with an empty
 * NOERROR thanks to `--local` (without it, dnsmasq answers REFUSED, and FINDINGS.md
 * says REFUSED makes nginx fail the whole lookup when ipv6 is on).
 */
import { Resolver } from 'node:dns/promises';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { MissingDependencyError } from '../errors.js';
import { freePort } from '../os/freePort.js';
import { stopChild, waitFor } from '../os/childProcess.js';

export interface DnsServer {
  /** `127.0.0.1:port`, as a `resolver.addresses` entry. */
  address: string;
  port: number;
  pid: number;
  records: Readonly<Record<string, string>>;
  stop(): Promise<void>;
}

const dnsmasqCandidates = ['dnsmasq', '/usr/sbin/dnsmasq'];

export interface DnsServerOptions {
  dnsmasq?: string;
  /**
   * Domains answered from local data only: a name under them that has no record
   * gets NXDOMAIN, as real DNS answers for an API id that does not exist. Names
   * outside them get REFUSED (nothing to forward to).
   */
  localDomains?: string[];
}

export async function startDnsServer(records: Record<string, string>, options: DnsServerOptions = {}): Promise<DnsServer> {
  const names = Object.keys(records);
  if (names.length === 0) throw new Error('startDnsServer needs at least one name to answer for');
  const dir = await mkdtemp(join(tmpdir(), 'mirror-dns-'));
  const port = await freePort({ udp: true });
  const args = [
    '--keep-in-foreground',
    '--conf-file=/dev/null',
    '--no-resolv',
    '--no-hosts',
    '--no-poll',
    '--bind-interfaces',
    '--listen-address=127.0.0.1',
    `--port=${port}`,
    `--pid-file=${join(dir, 'dnsmasq.pid')}`,
    '--log-facility=-',
    ...(process.getuid?.() === 0 ? ['--user=root'] : []),
    ...Object.entries(records).map(([name, ip]) => `--host-record=${name},${ip}`),
    // Local-only names: AAAA for an IPv4-only name gets an empty NOERROR answer, not
    // REFUSED (which is what dnsmasq says with nothing to forward to).
    ...[...names, ...(options.localDomains ?? [])].map((name) => `--local=/${name}/`),
  ];
  const { child } = await spawnDnsmasq(options.dnsmasq, args, dir);
  const resolver = new Resolver({ timeout: 200, tries: 1 });
  resolver.setServers([`127.0.0.1:${port}`]);
  try {
    await waitFor(
      async () => {
        const answer = await resolver.resolve4(names[0]!).catch((): string[] => []);
        return answer.includes(records[names[0]!]!);
      },
      { timeoutMs: 10_000, what: `dnsmasq answering on 127.0.0.1:${port}`, child },
    );
  } catch (error) {
    await stopChild(child);
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    address: `127.0.0.1:${port}`,
    port,
    pid: child.pid!,
    records,
    async stop() {
      await stopChild(child);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Wrapped in an object: a ResultPromise is thenable, and awaiting it would wait for the exit. */
async function spawnDnsmasq(explicit: string | undefined, args: string[], dir: string): Promise<{ child: ResultPromise }> {
  for (const candidate of explicit ? [explicit] : dnsmasqCandidates) {
    const child = execa(candidate, args, { reject: false, detached: true, stdin: 'ignore', stdout: 'ignore', stderr: 'pipe', buffer: { stderr: true } });
    const spawned = await new Promise<boolean>((resolve) => {
      child.once('spawn', () => resolve(true));
      child.once('error', () => resolve(false));
    });
    if (spawned) return { child };
  }
  await rm(dir, { recursive: true, force: true });
  throw new MissingDependencyError('dnsmasq not found: the sandbox needs a real DNS server to resolve the API Gateway host names', [
    process.getuid?.() === 0 ? 'install it: apt-get install -y dnsmasq' : 'install it: sudo apt-get install -y dnsmasq',
  ]);
}
