/** Reads the YAML config file; the only part of config handling that touches disk. */
import { readFile } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import { ConfigError, UsageError } from '../errors.js';
import type { Phase } from './phases.js';
import { validateConfig } from './validate.js';
import { phaseIssues } from './rules.js';
import type { MirrorConfig, RuleIssue } from './types.js';

export const defaultConfigPath = 'mirror.yaml';

export interface LoadedConfig {
  config: MirrorConfig;
  warnings: RuleIssue[];
  path: string;
}

export async function loadConfig(path: string = defaultConfigPath, phase?: Phase): Promise<LoadedConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(
      code === 'ENOENT'
        ? `config file ${path} not found: expected a YAML config (write one with \`mirror init\`, or name one with -c FILE)`
        : `cannot read config file ${path}: ${(error as Error).message}`,
    );
  }
  return { ...parseConfigText(text, path, phase), path };
}

/** YAML text to a validated config; YAML syntax errors carry their line. */
export function parseConfigText(text: string, source: string, phase?: Phase): Omit<LoadedConfig, 'path'> {
  const document = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (document.errors.length > 0) {
    throw new ConfigError(
      source,
      document.errors.map((e) => ({
        path: e.linePos?.[0] ? `line ${e.linePos[0].line}` : '(yaml)',
        message: `invalid YAML: ${e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}`,
      })),
    );
  }
  const result = validateConfig(document.toJS(), phase);
  if (!result.ok) throw new ConfigError(source, result.issues);
  return { config: result.config, warnings: result.warnings };
}

/**
 * A loaded config checked for another phase than its own (a cutover's target), without
 * reading or validating the file again: the same ConfigError loadConfig(path, phase) throws.
 */
export function configForPhase(loaded: LoadedConfig, phase: Phase): MirrorConfig {
  const errors = phaseIssues(loaded.config, phase).filter((issue) => issue.severity === 'error');
  if (errors.length > 0) throw new ConfigError(loaded.path, errors.map(({ path, message }) => ({ path, message })));
  return loaded.config;
}
