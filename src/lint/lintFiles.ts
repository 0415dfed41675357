/** Lint nginx config files from disk, includes resolved: the lint core with its file reader. */
import { loadNginxConfig, type LoadOptions } from './load.js';
import { lintTree } from './index.js';
import { countFindings, type LintReport } from './report.js';
import type { Finding } from './types.js';

export async function lintFiles(paths: readonly string[], options: LoadOptions = {}): Promise<LintReport> {
  const findings: Finding[] = [];
  const files: string[] = [];
  const notes: string[] = [];
  for (const path of paths) {
    const loaded = await loadNginxConfig(path, options);
    files.push(...loaded.files);
    notes.push(...loaded.notes);
    findings.push(...lintTree(loaded.tree));
  }
  return { findings, counts: countFindings(findings), files: [...new Set(files)], ...(notes.length > 0 ? { notes } : {}) };
}
