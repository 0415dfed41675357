/**
 * `mirror verify`: the parity comparator, one shot. Feeds the pure ledger from
 * the parity logs and from SQS (peek or consume) or earlier archives, judges what
 * is older than the grace period, applies the gate, and reports: counts, missing
 * ids with their log line, body mismatches with the first differing byte,
 * unexpected messages, delivery lag. No body is printed unless `--show-bodies`,
 * and the vendor's personal fields stay masked unless `--no-redact`.
 */
import { loadConfig } from '../config/load.js';
import { formatRatio } from '../verify/engine/gate.js';
import { compareParity, type ParityOptions, type VerifyResult } from '../verify/parity.js';

export { mask } from '../verify/parity.js';
export type { VerifyResult } from '../verify/parity.js';

export interface VerifyOptions extends ParityOptions {
  config?: string;
}

export async function runVerify(options: VerifyOptions): Promise<VerifyResult> {
  const { config } = await loadConfig(options.config);
  return compareParity(config, options);
}

export function formatVerifyText(r: VerifyResult): string {
  const c = r.counts;
  const lines = [
    `${r.verdict.toUpperCase()}: parity ${r.parity === null ? 'n/a' : formatRatio(r.parity)} (gate ${formatRatio(r.gate.threshold)}, ${r.gate.judged} judged, at least ${r.gate.minSample} needed)`,
    ...r.gate.reasons.map((reason) => `  ${reason}`),
    `  callbacks ${c.callbacks}  matched ${c.matched}  missing ${c.missing}  pending ${c.pending}  unexpected ${c.unexpected}  duplicates ${c.duplicates}  body mismatches ${c.bodyMismatches}  body not checked ${c.bodyNotChecked}`,
    `  nginx-rejected ${c.nginxRejected}  not mirrored ${c.notMirrored}  unjoinable ${c.unjoinable}  unparseable lines ${c.unparseable}  out of window ${c.outOfWindow}`,
    `  delivery lag ms: p50 ${r.lagMs.p50 ?? '-'}  p95 ${r.lagMs.p95 ?? '-'}  p99 ${r.lagMs.p99 ?? '-'}  max ${r.lagMs.max ?? '-'}`,
    `  sqs: ${'note' in r.sqs ? r.sqs.note : `${r.sqs.messages} messages from ${r.sqs.archives.length} archive(s)${r.sqs.reading.order === 'time' ? '' : ` read after every parity log (${r.sqs.reading.fallback})`}${r.sqs.unreadable.length ? `; ${r.sqs.unreadable.length} unreadable line(s), first ${r.sqs.unreadable[0]!.file}:${r.sqs.unreadable[0]!.line} (a fragment a killed consume run left?)` : ''}`}`,
  ];
  if (r.inFlight) {
    const f = r.inFlight;
    lines.push(
      `  in flight (others' receives or delays): up to ${f.othersInFlight}  [before: ${f.before.notVisible} not visible, ${f.before.delayed} delayed; after: ${f.after.notVisible} not visible (${f.heldByThisRun} held by this run), ${f.after.delayed} delayed]`,
    );
  }
  if (r.receivesAdded !== undefined) lines.push(`  receives added: ${r.receivesAdded} (each raised one message's ApproximateReceiveCount by 1)`);
  if (r.ack) {
    lines.push(`  unknown (sent, no answer: may have landed) ${r.ack.unknown}`);
    for (const [cause, n] of Object.entries(r.ack.byCause).sort((a, b) => b[1] - a[1])) lines.push(`  missing or unknown by cause: ${cause} ${n}`);
  }
  for (const m of r.missing.slice(0, 20)) lines.push(`  missing ${m.requestId} at ${new Date(m.timeMs).toISOString()} (${m.source.file}:${m.source.line})${'cause' in m ? ` cause ${String(m.cause)}` : ''}`);
  for (const m of r.mismatches.slice(0, 20)) {
    lines.push(`  body mismatch ${m.requestId} -> message ${m.messageId}: first difference at byte ${m.offset} (${m.callbackBytes} vs ${m.messageBytes} bytes)`);
    if (m.callbackBody !== undefined) lines.push(`    callback: ${m.callbackBody}`, `    message:  ${m.messageBody}`);
  }
  for (const u of r.parityLogs.unparseableList.slice(0, 10)) lines.push(`  unparseable ${u.file}:${u.line}: ${u.reason}`);
  return lines.join('\n');
}
