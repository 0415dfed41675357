/** Runs the real `nginx -t` on a harness through execa. */
import { execa } from 'execa';
import { harnessArgs, type Harness } from './harness.js';
import { isFailure, parseNginxMessages, type NginxMessage } from './nginxMessages.js';

export interface NginxTestResult {
  ok: boolean;
  exitCode: number;
  messages: NginxMessage[];
  stderr: string;
}

export async function runNginxTest(nginxPath: string, harness: Harness): Promise<NginxTestResult> {
  const result = await execa(nginxPath, ['-t', ...harnessArgs(harness)], { reject: false, all: false, timeout: 30_000 });
  const messages = parseNginxMessages(result.stderr, harness.fileMap);
  const exitCode = result.exitCode ?? 1;
  return { ok: exitCode === 0 && !messages.some(isFailure), exitCode, messages, stderr: result.stderr };
}
