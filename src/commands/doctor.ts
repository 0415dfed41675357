/**
 * `mirror doctor [--error-log FILE…] [--text TEXT] [-]`: name each known failure
 * in nginx error logs, API Gateway test-invoke output or execution logs, or one
 * pasted message. Exit 1 when a known failure was found, 0 when none, 2 when an
 * input cannot be read.
 */
import { readFile } from 'node:fs/promises';
import { ExitCode, UsageError } from '../errors.js';
import { diagnose, type DoctorInput, type DoctorReport } from '../doctor/diagnose.js';

export interface DoctorOptions {
  errorLog?: string[];
  text?: string;
  /** Also read standard input (`-`). */
  stdin?: boolean;
  readStdin?: () => Promise<string>;
  /** A config whose `sandbox.errorLogs` are read when no other input is given. */
  config?: string;
}

export async function runDoctor(options: DoctorOptions): Promise<{ exitCode: ExitCode; report: DoctorReport }> {
  const inputs: DoctorInput[] = [];
  let errorLogs = options.errorLog ?? [];
  if (errorLogs.length === 0 && options.text === undefined && !options.stdin && options.config !== undefined) {
    const { loadConfig } = await import('../config/load.js');
    errorLogs = (await loadConfig(options.config)).config.sandbox?.errorLogs ?? [];
    if (errorLogs.length === 0) throw new UsageError(`${options.config} names no logs (sandbox.errorLogs): give --error-log FILE, --text "message" or -`);
  }
  for (const file of errorLogs) {
    try {
      inputs.push({ name: file, text: await readFile(file, 'utf8') });
    } catch (error) {
      throw new UsageError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}; expected a readable log file`);
    }
  }
  if (options.text !== undefined) inputs.push({ name: '--text', text: options.text });
  if (options.stdin) inputs.push({ name: '-', text: await (options.readStdin ?? readAllStdin)() });
  if (inputs.length === 0) throw new UsageError('nothing to read: give --error-log FILE, --text "message" or - for standard input');
  const report = diagnose(inputs);
  return { exitCode: report.diagnoses.length > 0 ? ExitCode.checkFailed : ExitCode.ok, report };
}

async function readAllStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export function formatDoctorText(report: DoctorReport): string {
  const lines: string[] = [];
  if (report.diagnoses.length === 0) lines.push('no known failure found');
  for (const d of report.diagnoses) {
    const when = d.first ? ` (first ${d.first}, last ${d.last})` : '';
    lines.push(`${d.title}: ${d.count} line${d.count === 1 ? '' : 's'}${when}, first at ${d.firstAt.input}:${d.firstAt.line}`);
    if (d.subjects.length > 0) lines.push(`  host:   ${d.subjects.join(', ')}`);
    lines.push(`  cause:  ${d.cause}`, `  fix:    ${d.fix}`, `  change: ${d.change}`);
  }
  for (const input of report.inputs) {
    lines.push(
      `${input.name}: ${input.lines} lines, ${input.recognised} recognised, ${input.unrecognised} unrecognised (${input.unrecognisedErrors} of them errors)`,
    );
  }
  return lines.join('\n');
}
