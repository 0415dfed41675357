/** `mirror lint`'s flags and output; the work is in ./lint.ts. */
import { Option } from 'commander';
import { defineCommand, jsonOption, option } from './define.js';
import type { LintOptions, LintResult } from './lint.js';

interface LintFlags {
  format: LintOptions['format'];
  prefix?: string;
  confDir?: string;
}

async function formatLint(result: LintResult): Promise<string> {
  const { formatLintOutput } = await import('./lint.js');
  return formatLintOutput(result);
}

export const lintCommand = defineCommand<LintFlags, [string[]], LintResult>({
  name: 'lint',
  description: 'static checks nginx -t cannot do, on any nginx config (includes resolved; nginx -T dumps too)',
  arguments: [{ syntax: '<file...>', description: 'nginx config files (- reads an nginx -T dump from standard input)' }],
  options: [
    new Option('--format <format>', 'output format').choices(['text', 'json', 'sarif']).default('text'),
    jsonOption('same as --format json'),
    option('--prefix <dir>', "nginx's -p: the base of a relative --conf-dir"),
    option('--conf-dir <dir>', 'where relative includes resolve: the directory of the main nginx.conf (default: the directory of the file given)'),
  ],
  async run(opts, [files]) {
    const { runLint } = await import('./lint.js');
    return runLint({ files, format: opts.json ? 'json' : opts.format, prefix: opts.prefix, confDir: opts.confDir });
  },
  // The result carries its format (text, json or sarif): one formatter for both.
  formatText: formatLint,
  formatJson: formatLint,
});
