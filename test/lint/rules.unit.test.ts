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
const rulesDir = fileURLToPath(new URL('../../src/lint/rules', import.meta.url));

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
    // Every rule module is registered, once, under the id its file name spells.
    const ruleModules = readdirSync(rulesDir).filter((f) => f.endsWith('.ts') && f !== 'index.ts');
    const kebab = (file: string) => file.replace(/\.ts$/, '').replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
    expect(rules.map((r) => r.id).sort()).toEqual(ruleModules.map(kebab).sort());
    for (const rule of rules) {
      const mine = cases.filter((c) => c.ruleId === rule.id);
      expect(mine.filter((c) => c.positive).length, rule.id).toBeGreaterThanOrEqual(2);
      expect(mine.filter((c) => !c.positive).length, rule.id).toBeGreaterThanOrEqual(2);
      // SARIF and the text report show these: a one-line summary and a fix that says more.
      expect(rule.summary, rule.id).toMatch(/^\S.{10,}\S$/);
      expect(rule.summary, rule.id).not.toMatch(/\n/);
      expect(rule.help, rule.id).not.toBe(rule.summary);
      expect(rule.help.split(/\s+/).length, rule.id).toBeGreaterThanOrEqual(5);
    }
    expect(new Set(rules.map((r) => r.summary)).size).toBe(rules.length);
    expect(new Set(ruleDirs)).toEqual(new Set(rules.map((r) => r.id)));
  });
});
