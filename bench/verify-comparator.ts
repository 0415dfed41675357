/**
 * Comparator throughput: `mirror verify --sqs-archive` (offline) over N parity-log
 * lines and about N archived messages, against the bare work of reading the same
 * files line by line and JSON-parsing each line. Not a test: it prints figures and
 * the ratio to the baseline measured in the same run.
 *
 *   npx tsx bench/verify-comparator.ts [--records 1000000] [--archives 1] [--keep DIR]
 *
 * The inputs are realistic: ~414-byte Bizppurio callbacks, 0.1% of callbacks never
 * reach SQS, 0.5% of messages arrive twice, and messages are shuffled within
 * windows of 2,000 (SQS gives no order). The archive is what `--mode consume`
 * writes (one JSON QueueMessage per line); `--archives K` splits it over K files,
 * as K consume runs would. Each phase runs in a child process of its own, so its
 * peak RSS (getrusage maxrss) is its alone; `--cpu-prof` writes a V8 profile of
 * each phase into the work directory. The comparator's report includes how it read
 * (`reading`: time order or all at once, most undecided items held at once).
 */
import { closeSync, createReadStream, openSync, writeSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { execa } from 'execa';
import { stringify } from 'yaml';
import { runVerify } from '../src/commands/verify.js';
import { loadConfig } from '../src/config/load.js';
import { durationToMs } from '../src/config/nginxValues.js';
import { ParityLedger } from '../src/verify/engine/parityLedger.js';
import { readParityLogs } from '../src/verify/sources/parityLogSource.js';
import type { QueueMessage } from '../src/verify/engine/records.js';
import { requestIdAttribute } from '../src/wire/contract.js';
import { exampleConfig } from '../test/support/config.js';
import { benchCallbackBody, benchParityLine, benchRequestId } from './support/benchCallbacks.js';
import { seededRandom } from '../test/support/seededRandom.js';

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '1000000' },
    archives: { type: 'string', default: '1' },
    keep: { type: 'string' },
    'cpu-prof': { type: 'boolean', default: false },
    // Internal: run one phase in this (child) process.
    phase: { type: 'string' },
    dir: { type: 'string' },
  },
});

const baseTimeMs = Date.parse('2026-11-25T00:00:00Z');
const spacingMs = 50;
const dropRate = 0.001;
const duplicateRate = 0.005;
const shuffleWindow = 2_000;

interface PhaseFigures {
  phase: string;
  records: number;
  ms: number;
  maxRssMb: number;
  detail: Record<string, unknown>;
}

interface Inputs {
  dir: string;
  parityLog: string;
  archives: string[];
  config: string;
  callbacks: number;
  messages: number;
  dropped: number;
  duplicated: number;
  bytes: number;
  nowMs: number;
}

/** Writes the parity log, the archive(s) and a config; returns what the generator knows. */
async function generate(dir: string, records: number, archiveCount: number): Promise<Inputs> {
  const random = seededRandom(0x5eed);
  const parityLog = join(dir, 'parity.log');
  const archives = Array.from({ length: archiveCount }, (_, k) => join(dir, `archive-${k}.jsonl`));
  const log = openSync(parityLog, 'w', 0o600);
  const archiveFds = archives.map((file) => openSync(file, 'w', 0o600));
  let messages = 0;
  let dropped = 0;
  let duplicated = 0;
  const perArchive = Math.ceil(records / archiveCount);
  for (let start = 0; start < records; start += shuffleWindow) {
    const end = Math.min(records, start + shuffleWindow);
    const lines: string[] = [];
    const window: string[] = [];
    for (let i = start; i < end; i++) {
      const body = benchCallbackBody(i);
      const timeMs = baseTimeMs + i * spacingMs;
      lines.push(benchParityLine(i, timeMs, body));
      if (random() < dropRate) {
        dropped++;
        continue;
      }
      const message: QueueMessage = {
        messageId: `${benchRequestId(i).slice(0, 8)}-0000-4000-8000-${benchRequestId(i).slice(20)}`,
        body,
        attributes: { [requestIdAttribute]: benchRequestId(i) },
        sentTimestampMs: timeMs + 20 + Math.floor(random() * 400),
      };
      const line = JSON.stringify(message);
      window.push(line);
      if (random() < duplicateRate) {
        duplicated++;
        window.push(line);
      }
    }
    for (let k = window.length - 1; k > 0; k--) {
      const j = Math.floor(random() * (k + 1));
      [window[k], window[j]] = [window[j]!, window[k]!];
    }
    messages += window.length;
    writeSync(log, `${lines.join('\n')}\n`);
    writeSync(archiveFds[Math.min(archiveCount - 1, Math.floor(start / perArchive))]!, `${window.join('\n')}\n`);
  }
  closeSync(log);
  for (const fd of archiveFds) closeSync(fd);
  const config = join(dir, 'mirror.yaml');
  await writeFile(config, stringify({ ...exampleConfig(), verify: { grace: '2m', gate: 0.999, minSample: 100 } }));
  let bytes = (await stat(parityLog)).size;
  for (const file of archives) bytes += (await stat(file)).size;
  return { dir, parityLog, archives, config, callbacks: records, messages, dropped, duplicated, bytes, nowMs: baseTimeMs + records * spacingMs + 3_600_000 };
}

/** Streams a file and calls `onLine` for each whole line: the bare minimum a reader must do. */
async function forEachLine(file: string, onLine: (line: string) => void): Promise<void> {
  let rest = '';
  const input = createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 16 });
  for await (const chunk of input) {
    const text = rest + (chunk as string);
    let from = 0;
    for (let newline = text.indexOf('\n'); newline !== -1; newline = text.indexOf('\n', from)) {
      onLine(text.slice(from, newline));
      from = newline + 1;
    }
    rest = text.slice(from);
  }
}

/** The floor: stream each file, split lines, JSON.parse each one, nothing else. */
async function bareParse(files: string[]): Promise<{ records: number; detail: Record<string, unknown> }> {
  let records = 0;
  let requestIds = 0;
  for (const file of files) {
    await forEachLine(file, (line) => {
      const value = JSON.parse(line) as { request_id?: string; attributes?: Record<string, string> };
      // Touch one field, so the parse cannot be optimised away.
      if (value.request_id ?? value.attributes?.[requestIdAttribute]) requestIds++;
      records++;
    });
  }
  return { records, detail: { requestIds } };
}

/**
 * runVerify's own pieces (readParityLogs, the pure ParityLedger) in the order
 * verify read before it read in time order: every callback first, then the archive
 * streamed line by line, judged once. Not the product path; the yardstick it is
 * measured against (docs/benchmarks.md, "Reading in time order").
 */
async function streamedArchive(inputs: Inputs): Promise<{ records: number; detail: Record<string, unknown> }> {
  const { config } = await loadConfig(inputs.config);
  const ledger = new ParityLedger({ match: { kind: 'request-id' }, graceMs: durationToMs(config.verify.grace) });
  const logs = await readParityLogs([inputs.parityLog], (record) => ledger.addCallback(record));
  let messages = 0;
  for (const file of inputs.archives) {
    await forEachLine(file, (line) => {
      ledger.addMessage(JSON.parse(line) as QueueMessage);
      messages++;
    });
  }
  ledger.advance(inputs.nowMs);
  const judgement = ledger.judgement();
  return { records: logs.records + messages, detail: { counts: judgement.counts, parity: judgement.parity } };
}

async function runPhase(phase: string, inputs: Inputs): Promise<PhaseFigures> {
  const started = process.hrtime.bigint();
  let records: number;
  let detail: Record<string, unknown>;
  if (phase === 'baseline') {
    ({ records, detail } = await bareParse([inputs.parityLog, ...inputs.archives]));
  } else if (phase === 'streamed-archive') {
    ({ records, detail } = await streamedArchive(inputs));
  } else {
    const result = await runVerify({ config: inputs.config, parityLog: [inputs.parityLog], sqsArchive: inputs.archives, now: inputs.nowMs });
    records = result.parityLogs.records + ('messages' in result.sqs ? result.sqs.messages : 0);
    detail = { counts: result.counts, verdict: result.verdict, parity: result.parity, ...('reading' in result.sqs ? { reading: result.sqs.reading } : {}) };
  }
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  return { phase, records, ms, maxRssMb: process.resourceUsage().maxRSS / 1024, detail };
}

async function main(): Promise<void> {
  const records = Number(values.records);
  const archiveCount = Number(values.archives);
  if (values.phase) {
    const inputs = JSON.parse(await readFile(join(values.dir!, 'inputs.json'), 'utf8')) as Inputs;
    process.stdout.write(`${JSON.stringify(await runPhase(values.phase, inputs))}\n`);
    return;
  }
  const dir = values.keep ?? (await mkdtemp(join(tmpdir(), 'mirror-bench-comparator-')));
  await mkdir(dir, { recursive: true });
  try {
    const generatedAt = Date.now();
    const inputs = await generate(dir, records, archiveCount);
    await writeFile(join(dir, 'inputs.json'), JSON.stringify(inputs));
    console.log(
      `verify comparator: ${inputs.callbacks} parity-log lines, ${inputs.messages} archived messages in ${archiveCount} file(s) ` +
        `(${inputs.dropped} dropped, ${inputs.duplicated} duplicated, shuffled in windows of ${shuffleWindow}), ` +
        `${(inputs.bytes / 2 ** 20).toFixed(0)} MiB, generated in ${((Date.now() - generatedAt) / 1000).toFixed(1)} s; node ${process.version}`,
    );
    const script = fileURLToPath(import.meta.url);
    const phase = async (name: string): Promise<PhaseFigures> => {
      const profile = values['cpu-prof'] ? ['--cpu-prof', '--cpu-prof-dir', join(dir, `prof-${name}`)] : [];
      const run = await execa(process.execPath, [...profile, '--import', import.meta.resolve('tsx/esm'), script, '--phase', name, '--dir', dir], { reject: false });
      if (run.exitCode !== 0) return { phase: name, records: 0, ms: Number.NaN, maxRssMb: Number.NaN, detail: { error: String(run.stderr).split('\n').find((l) => /^\w*Error: /.test(l))?.trim() ?? String(run.stderr).trim().slice(-400) } };
      return JSON.parse(String(run.stdout).trim().split('\n').at(-1)!) as PhaseFigures;
    };
    const baseline = await phase('baseline');
    const comparator = await phase('comparator');
    const streamed = await phase('streamed-archive');
    const rate = (f: PhaseFigures) => f.records / (f.ms / 1000);
    for (const f of [baseline, comparator, streamed]) {
      console.log(
        `  ${f.phase.padEnd(16)} ${String(f.records).padStart(8)} records  ${(f.ms / 1000).toFixed(2).padStart(7)} s  ${Math.round(rate(f)).toLocaleString('en-US').padStart(10)} records/s  peak RSS ${f.maxRssMb.toFixed(0).padStart(5)} MiB`,
      );
    }
    console.log(`  comparator / bare parse speed: ${(rate(comparator) / rate(baseline)).toFixed(2)}x (aim: 0.5x or better)`);
    console.log(`  streamed-archive / bare parse speed: ${(rate(streamed) / rate(baseline)).toFixed(2)}x (yardstick: the same core, every callback read before any message)`);
    if ('error' in comparator.detail) console.log(`  comparator failed: ${String(comparator.detail.error)}`);
    else console.log(`  comparator report: ${JSON.stringify(comparator.detail)}`);
    if ('error' in streamed.detail) console.log(`  streamed-archive failed: ${String(streamed.detail.error)}`);
    else {
      const a = (streamed.detail as { counts: Record<string, number> }).counts;
      const b = (comparator.detail as { counts?: Record<string, number> }).counts;
      console.log(`  streamed-archive counts equal the comparator's: ${b ? Object.keys(a).every((k) => a[k] === b[k]) : 'n/a (comparator failed)'}`);
    }
    if (values['cpu-prof']) console.log(`  CPU profiles in ${dir}/prof-*`);
  } finally {
    if (!values.keep && !values['cpu-prof']) await rm(dir, { recursive: true, force: true });
  }
}

await main();
