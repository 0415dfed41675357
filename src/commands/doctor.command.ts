/** `mirror doctor`'s flags and output; the work is in ./doctor.ts. */
import { UsageError } from '../errors.js';
import { configOption, defineCommand, jsonOption, option } from './define.js';
import type { DoctorOptions } from './doctor.js';
import type { DoctorReport } from '../doctor/diagnose.js';

type DoctorFlags = Pick<DoctorOptions, 'errorLog' | 'text' | 'config'>;

export const doctorCommand = defineCommand<DoctorFlags, [string | undefined], { exitCode: number; report: DoctorReport }>({
  name: 'doctor',
  description: 'name each known failure in nginx error logs or API Gateway test/execution output, with its cause and fix',
  arguments: [{ syntax: '[stdin]', description: '- to read standard input' }],
  options: [
    option('--error-log <file...>', 'nginx error log or saved API Gateway output'),
    configOption('read the logs the config names (sandbox.errorLogs) when no other input is given'),
    option('--text <message>', 'one pasted message'),
    jsonOption('print the report as JSON'),
  ],
  async run(opts, [stdin]) {
    if (stdin !== undefined && stdin !== '-') throw new UsageError(`doctor: unexpected argument "${stdin}"; expected - (standard input)`);
    const { runDoctor } = await import('./doctor.js');
    return runDoctor({ ...opts, stdin: stdin === '-' });
  },
  async formatText(result) {
    const { formatDoctorText } = await import('./doctor.js');
    return formatDoctorText(result.report);
  },
  formatJson: (result) => JSON.stringify(result.report, null, 2),
});
