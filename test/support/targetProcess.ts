/**
 * The mirror target in a process of its own (recordingServerMain), so a benchmark
 * measures nginx, not a target sharing its event loop with the load generator.
 * From compiled code it runs the .js file; from sources (tests, `tsx bench/…`) it
 * runs the .ts file through tsx's loader.
 */
import { createInterface } from 'node:readline';
import { execa, type ResultPromise } from 'execa';
import type { RecordingServerOptions } from '../../src/sandbox/recordingServer.js';
import { stopChild } from '../../src/os/childProcess.js';
import { nodeEntryArgs } from '../../src/os/nodeEntry.js';

export interface TargetProcess {
  port: number;
  pid: number;
  /** Requests the target has answered or is holding. */
  count(): Promise<number>;
  stop(): Promise<void>;
}

export async function startTargetProcess(options: Omit<RecordingServerOptions, 'record'>, timeoutMs = 15_000): Promise<TargetProcess> {
  const child: ResultPromise = execa(process.execPath, [...nodeEntryArgs('../../src/sandbox/recordingServerMain', import.meta.url), JSON.stringify(options)], {
    reject: false,
    detached: true,
    stdin: 'pipe',
    stdout: 'pipe',
    stderr: 'pipe',
    buffer: false,
  });
  const lines = createInterface({ input: child.stdout! });
  const waiting: ((line: string) => void)[] = [];
  lines.on('line', (line) => waiting.shift()?.(line));
  const nextLine = (what: string) =>
    new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`mirror target process: no ${what} within ${timeoutMs} ms`)), timeoutMs);
      waiting.push((line) => {
        clearTimeout(timer);
        resolve(line);
      });
      void child.then((r) => reject(new Error(`mirror target process exited with ${r.exitCode ?? r.signal}`)));
    });
  let port: number;
  try {
    port = (JSON.parse(await nextLine('port')) as { port: number }).port;
  } catch (error) {
    await stopChild(child);
    throw error;
  }
  return {
    port,
    pid: child.pid!,
    async count() {
      const answer = nextLine('count');
      child.stdin!.write('count\n');
      return (JSON.parse(await answer) as { count: number }).count;
    },
    async stop() {
      lines.close();
      await stopChild(child);
    },
  };
}
