/**
 * Pure: log text in, a report of known failures out. A line is claimed by the
 * first known failure whose pattern matches; every other line is counted as
 * unrecognised (never dropped silently). Lines themselves are never copied into
 * the report: execution logs carry callback bodies, and those hold phone numbers.
 * Only the host name a resolver or TLS error names is kept, as the subject.
 */
import { knownFailures } from './knownFailures.js';
import type { KnownFailure } from './knownFailure.js';

export interface DoctorInput {
  /** File name, `-` for stdin, or `--text`. */
  name: string;
  text: string;
}

interface Diagnosis {
  id: string;
  source: KnownFailure['source'];
  title: string;
  count: number;
  /** ISO 8601 when the line carried a time nginx or API Gateway writes; else null. */
  first: string | null;
  last: string | null;
  /** Where it was first seen: input name and line number. */
  firstAt: { input: string; line: number };
  /** Host names the lines named (resolver and TLS errors), at most 5. */
  subjects: string[];
  cause: string;
  fix: string;
  change: string;
}

export interface DoctorReport {
  inputs: { name: string; lines: number; recognised: number; unrecognised: number; unrecognisedErrors: number }[];
  diagnoses: Diagnosis[];
}

export function diagnose(inputs: readonly DoctorInput[]): DoctorReport {
  const byId = new Map<string, Diagnosis>();
  const report: DoctorReport = { inputs: [], diagnoses: [] };
  for (const input of inputs) {
    const summary = { name: input.name, lines: 0, recognised: 0, unrecognised: 0, unrecognisedErrors: 0 };
    // API Gateway execution logs write several lines per request, each with its
    // request id: a failure counts once per request, not once per line.
    const counted = new Set<string>();
    input.text.split(/\r?\n/).forEach((line, index) => {
      if (line.trim() === '') return;
      summary.lines++;
      const failure = knownFailures.find((f) => f.pattern.test(line));
      if (!failure) {
        summary.unrecognised++;
        if (/\[(?:error|crit|alert|emerg)\]|\b(?:error|exception|failed)\b/i.test(line)) summary.unrecognisedErrors++;
        return;
      }
      summary.recognised++;
      const time = lineTime(line);
      let diagnosis = byId.get(failure.id);
      if (!diagnosis) {
        diagnosis = {
          id: failure.id,
          source: failure.source,
          title: failure.title,
          count: 0,
          first: time,
          last: time,
          firstAt: { input: input.name, line: index + 1 },
          subjects: [],
          cause: failure.cause,
          fix: failure.fix,
          change: failure.change,
        };
        byId.set(failure.id, diagnosis);
      }
      const requestId = executionRequestId(line);
      if (requestId === undefined || !counted.has(`${failure.id} ${requestId}`)) diagnosis.count++;
      if (requestId !== undefined) counted.add(`${failure.id} ${requestId}`);
      if (time !== null) {
        if (diagnosis.first === null || time < diagnosis.first) diagnosis.first = time;
        if (diagnosis.last === null || time > diagnosis.last) diagnosis.last = time;
      }
      const subject = lineSubject(line);
      if (subject && diagnosis.subjects.length < 5 && !diagnosis.subjects.includes(subject)) diagnosis.subjects.push(subject);
    });
    report.inputs.push(summary);
  }
  // Known failures in the order of the catalogue: the resolver before TLS before SQS.
  const order = new Map(knownFailures.map((f, i) => [f.id, i]));
  report.diagnoses = [...byId.values()].sort((a, b) => order.get(a.id)! - order.get(b.id)!);
  return report;
}

/** `(9f1c…)` after the time of an API Gateway execution-log line. */
function executionRequestId(line: string): string | undefined {
  return /^(?:\S+ )?\(([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\) /.exec(line)?.[1];
}

const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** The time of a line: nginx error log, API Gateway test-invoke output, or ISO 8601 (CloudWatch). */
export function lineTime(line: string): string | null {
  const nginx = /^(\d{4})\/(\d{2})\/(\d{2}) (\d{2}):(\d{2}):(\d{2}) \[/.exec(line);
  if (nginx) {
    // nginx writes local time without a zone; reported as written.
    const [, y, mo, d, h, mi, s] = nginx;
    return `${y}-${mo}-${d}T${h}:${mi}:${s}`;
  }
  const invoke = /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) ([A-Z][a-z]{2}) +(\d{1,2}) (\d{2}):(\d{2}):(\d{2}) UTC (\d{4}) : /.exec(line);
  if (invoke) {
    const [, mon, d, h, mi, s, y] = invoke;
    const month = months.indexOf(mon!) + 1;
    if (month > 0) return `${y}-${String(month).padStart(2, '0')}-${d!.padStart(2, '0')}T${h}:${mi}:${s}Z`;
  }
  const iso = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.\d+)?(Z|[+-]\d{2}:?\d{2})?/.exec(line);
  if (iso) return `${iso[1]}${iso[2] === 'Z' ? 'Z' : ''}`;
  return null;
}

function lineSubject(line: string): string | undefined {
  const match =
    /no resolver defined to resolve ([A-Za-z0-9.-]+)/.exec(line) ??
    /([A-Za-z0-9.-]+) could not be resolved/.exec(line) ??
    /does not match "([A-Za-z0-9.-]+)"/.exec(line) ??
    /upstream: "https?:\/\/([A-Za-z0-9.-]+|\d+\.\d+\.\d+\.\d+)(?::\d+)?\//.exec(line);
  return match?.[1];
}
