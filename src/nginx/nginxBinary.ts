/** Finds the nginx binary; a missing one is exit 3 with the command that installs it. */
import { access, constants } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { MissingDependencyError } from '../errors.js';

const nginxInstallHint =
  'install it with `sudo apt-get install -y nginx-light` (Debian/Ubuntu; `nginx` works too), or pass --nginx PATH';

export async function findNginx(explicit?: string): Promise<string> {
  if (explicit) {
    if (await isExecutable(explicit)) return explicit;
    throw new MissingDependencyError(`nginx not found at ${explicit} (from --nginx): ${nginxInstallHint}`);
  }
  // /usr/sbin is often missing from a non-root PATH, and that is where Debian puts nginx.
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin', '/usr/local/nginx/sbin'];
  for (const dir of dirs.filter(Boolean)) {
    const candidate = join(dir, 'nginx');
    if (await isExecutable(candidate)) return candidate;
  }
  throw new MissingDependencyError(`nginx not found on PATH or in /usr/sbin: ${nginxInstallHint}`);
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
