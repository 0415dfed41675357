/**
 * lint on real nginx configurations this project did not write (test/lint/corpus:
 * Debian packages, npm packages and public repositories, each file with its origin
 * and licence in manifest.json). Against the real `nginx -t` verdicts recorded in
 * verdicts.json (record-verdicts.ts): lint never crashes, never refuses a file nginx
 * accepts, and every finding it gives is one reviewed in expectations.json (and
 * every reviewed finding still comes). A few verdicts are re-checked with the real
 * nginx here.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { runLint } from '../../src/commands/lint.js';
import { UsageError } from '../../src/errors.js';
import { findNginx } from '../../src/nginx/nginxBinary.js';
import { confRoot, corpusDir, recordVerdict, type CorpusVerdict } from './corpus/record-verdicts.js';

interface Manifest {
  sources: { id: string; origin: string; licence: string; licenceFile: string }[];
  files: { path: string; source: string; origin: string }[];
}
interface Expectation {
  /** Why lint refuses the file (exit 2), as nginx does; absent when lint reads it. */
  refused?: { message: string; reason: string };
  findings: { ruleId: string; severity: string; file: string; line: number; reason: string }[];
}

const read = <T>(name: string): T => JSON.parse(readFileSync(join(corpusDir, name), 'utf8')) as T;
const manifest = read<Manifest>('manifest.json');
const { verdicts } = read<{ verdicts: Record<string, CorpusVerdict> }>('verdicts.json');
const expectations = read<Record<string, Expectation>>('expectations.json');

/** What lint says about one corpus file, as data to compare with the reviewed expectation. */
async function lintCorpusFile(path: string): Promise<Expectation> {
  const file = join(corpusDir, path);
  try {
    const { report } = await runLint({ files: [file], format: 'json', confDir: confRoot(file) });
    return {
      findings: report.findings.map((f) => ({ ruleId: f.ruleId, severity: f.severity, file: relative(corpusDir, f.file), line: f.line, reason: '' })),
    };
  } catch (error) {
    // Anything but a UsageError is a crash.
    if (!(error instanceof UsageError)) throw error;
    return { refused: { message: error.message.replaceAll(corpusDir, ''), reason: '' }, findings: [] };
  }
}

describe('the corpus', () => {
  it('holds at least 200 files from several public sources, each with its origin, licence and nginx verdict', () => {
    expect(manifest.files.length).toBeGreaterThanOrEqual(200);
    const kinds = new Set(manifest.sources.map((s) => s.id.split('/')[0]));
    expect(kinds).toEqual(new Set(['debian', 'npm', 'github']));
    const sources = new Map(manifest.sources.map((s) => [s.id, s]));
    for (const f of manifest.files) {
      const source = sources.get(f.source);
      expect(source?.licence, f.path).toBeTruthy();
      expect(readFileSync(join(corpusDir, source!.licenceFile), 'utf8').length, source!.licenceFile).toBeGreaterThan(50);
      expect(verdicts[f.path], f.path).toBeDefined();
      expect(expectations[f.path], f.path).toBeDefined();
    }
    // Both kinds of verdict are represented, so the test below holds lint to both.
    expect(Object.values(verdicts).filter((v) => v.ok).length).toBeGreaterThan(80);
  });

  it.each(manifest.files.map((f) => f.path))('%s: no crash, no refusal nginx would not make, only reviewed findings', async (path) => {
    const actual = await lintCorpusFile(path);
    const expected = expectations[path]!;
    if (verdicts[path]!.ok) expect(actual.refused, `nginx -t accepts ${path}`).toBeUndefined();
    expect(actual.refused?.message).toBe(expected.refused?.message);
    const key = (f: Expectation['findings'][number]) => `${f.ruleId} ${f.severity} ${f.file}:${f.line}`;
    expect(actual.findings.map(key).sort()).toEqual(expected.findings.map(key).sort());
    for (const f of expected.findings) expect(f.reason.length, `reason for ${key(f)}`).toBeGreaterThan(20);
    if (expected.refused) expect(expected.refused.reason.length).toBeGreaterThan(20);
  });

  it('the recorded verdicts are what the real nginx says (a sample re-checked)', async () => {
    const nginx = await findNginx();
    // Not the Debian files (their verdicts depend on the packages installed) nor Lua
    // configs (the lua module may be missing); every 15th of the rest.
    const sample = manifest.files
      .filter((f) => !f.source.startsWith('debian/') && !readFileSync(join(corpusDir, f.path), 'utf8').includes('lua'))
      .filter((_, i) => i % 15 === 0);
    expect(sample.length).toBeGreaterThanOrEqual(5);
    for (const { path } of sample) {
      const now = await recordVerdict(nginx, join(corpusDir, path));
      expect({ path, ok: now.ok, context: now.context }).toEqual({ path, ok: verdicts[path]!.ok, context: verdicts[path]!.context });
    }
  }, 120_000);
});
