/**
 * Every rule against its fixtures: a fixture named `*.conf` must give exactly one
 * finding of its rule and no other error or warning; `*_fp.conf` (false-positive
 * guards: lookalikes of the bug) must give none of its rule.
 */
import { describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runLint } from '../../src/commands/lint.js';
import { rules } from '../../src/lint/rules/index.js';

const fixturesDir = fileURLToPath(new URL('./fixtures', import.meta.url));
const ruleDirs = readdirSync(fixturesDir);

const cases = ruleDirs.flatMap((ruleId) =>
  readdirSync(join(fixturesDir, ruleId))
    .filter((f) => f.endsWith('.conf'))
    .map((file) => ({ ruleId, file, positive: !file.endsWith('_fp.conf'), path: join(fixturesDir, ruleId, file) })),
);

describe('lint rules on their fixtures', () => {
  it.each(cases.filter((c) => c.positive))('$ruleId: $file gives exactly one finding', async ({ ruleId, path }) => {
    const { report, exitCode } = await runLint({ files: [path], format: 'json' });
    const own = report.findings.filter((f) => f.ruleId === ruleId);
    expect(own).toHaveLength(1);
    expect(own[0]!.file).toBe(path);
    expect(own[0]!.line).toBeGreaterThan(0);
    const others = report.findings.filter((f) => f.ruleId !== ruleId && f.severity !== 'info');
    expect(others).toEqual([]);
    const rule = rules.find((r) => r.id === ruleId)!;
    expect(own[0]!.severity).toBe(rule.severity);
    expect(exitCode).toBe(rule.severity === 'error' ? 1 : 0);
  });

  it.each(cases.filter((c) => !c.positive))('$ruleId: $file gives none', async ({ ruleId, path }) => {
    const { report } = await runLint({ files: [path], format: 'json' });
    expect(report.findings.filter((f) => f.ruleId === ruleId)).toEqual([]);
  });

  it('every rule has at least two fixtures of each kind, and every fixture folder names a rule', () => {
    expect(rules).toHaveLength(12);
    for (const rule of rules) {
      const mine = cases.filter((c) => c.ruleId === rule.id);
      expect(mine.filter((c) => c.positive).length, rule.id).toBeGreaterThanOrEqual(2);
      expect(mine.filter((c) => !c.positive).length, rule.id).toBeGreaterThanOrEqual(2);
      expect(rule.summary.length).toBeGreaterThan(10);
      expect(rule.help.length).toBeGreaterThan(10);
    }
    expect(new Set(ruleDirs)).toEqual(new Set(rules.map((r) => r.id)));
  });
});
