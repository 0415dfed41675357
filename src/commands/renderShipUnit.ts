/**
 * `mirror render ship-unit`: the systemd unit that runs `mirror ship`. Apart from
 * ./ship.ts so that the long-running shipper does not load the template engine.
 */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { writeFileAtomic } from '../fs/atomicWrite.js';
import { templatesDir } from '../render/templates.js';
import { renderShipUnit } from '../ship/shipUnit.js';
import { ExitCode, UsageError } from '../errors.js';
import { loadConfig } from '../config/load.js';

export interface RenderShipUnitOptions {
  config?: string;
  out?: string;
  stdout?: boolean;
  /** The user the service runs as: one that can read nginx's logs (default www-data). */
  user?: string;
  group?: string;
  /** Absolute path of the mirror command (default /usr/local/bin/mirror). */
  mirrorCommand?: string;
  /** The state paths of the config are relative to this (default: the current directory). */
  workingDirectory?: string;
}

export interface RenderShipUnitResult {
  exitCode: ExitCode;
  name: string;
  path?: string;
  contents: string;
}

/** `mirror render ship-unit`: the systemd unit that runs the shipper, written atomically or printed. */
export async function runRenderShipUnit(options: RenderShipUnitOptions): Promise<RenderShipUnitResult> {
  const loaded = await loadConfig(options.config);
  const template = await readFile(join(templatesDir, 'ship', 'mirror-ship.service.hbs'), 'utf8');
  let unit;
  try {
    unit = renderShipUnit(
      loaded.config,
      {
        configPath: resolve(loaded.path),
        mirrorCommand: options.mirrorCommand ?? '/usr/local/bin/mirror',
        user: options.user ?? 'www-data',
        group: options.group ?? 'adm',
        workingDirectory: resolve(options.workingDirectory ?? '.'),
      },
      template,
    );
  } catch (error) {
    throw new UsageError(`render ship-unit: ${(error as Error).message}`);
  }
  if (options.stdout) return { exitCode: ExitCode.ok, name: unit.name, contents: unit.contents };
  const path = resolve(options.out ?? unit.name);
  await writeFileAtomic(path, unit.contents);
  return { exitCode: ExitCode.ok, name: unit.name, path, contents: unit.contents };
}

export function formatRenderShipUnitText(result: RenderShipUnitResult): string {
  if (result.path === undefined) return result.contents.trimEnd();
  return `wrote ${result.path}\nInstall: copy it to /etc/systemd/system/${result.name}, then systemctl daemon-reload && systemctl enable --now ${result.name}`;
}
