/** `mirror init`: write a commented starter config; never overwrite without --force. */
import { access } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ExitCode, UsageError } from '../errors.js';
import { defaultConfigPath } from '../config/load.js';
import { starterConfigText } from '../config/starterConfig.js';
import { writeFileAtomic } from '../fs/atomicWrite.js';
import { vendorIds, vendorPreset, type VendorId } from '../vendors/index.js';

export interface InitOptions {
  vendor?: string;
  out?: string;
  force?: boolean;
}

export interface InitResult {
  exitCode: ExitCode;
  path: string;
  vendor: VendorId;
}

export async function runInit(options: InitOptions): Promise<InitResult> {
  const vendor = options.vendor ?? 'bizppurio';
  if (!(vendorIds as readonly string[]).includes(vendor)) {
    throw new UsageError(`--vendor ${JSON.stringify(vendor)}: expected one of ${vendorIds.join(', ')}`);
  }
  const path = resolve(options.out ?? defaultConfigPath);
  if (!options.force && (await exists(path))) {
    throw new UsageError(`${path} already exists: not overwriting it (pass --force to replace it, or --out FILE)`);
  }
  await writeFileAtomic(path, starterConfigText(vendorPreset(vendor as VendorId)));
  return { exitCode: ExitCode.ok, path, vendor: vendor as VendorId };
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
