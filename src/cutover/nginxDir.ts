/**
 * The adapter that changes the include files nginx loads: read what is there,
 * keep a backup, write the new files atomically, and put the backup back.
 */
import { copyFile, mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { RenderedFile } from '../render/nginxConfig.js';
import { writeFileAtomic } from '../fs/atomicWrite.js';

const backupDirName = '.mirror-backup';

export interface OnDiskFile {
  name: string;
  /** Undefined when the file does not exist. */
  contents?: string;
}

export async function readIncludeFiles(dir: string, names: readonly string[]): Promise<OnDiskFile[]> {
  return Promise.all(
    names.map(async (name) => {
      try {
        return { name, contents: await readFile(join(dir, name), 'utf8') };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { name };
        throw error;
      }
    }),
  );
}

export interface Backup {
  dir: string;
  /** What each file was before the write; undefined contents: it did not exist. */
  files: OnDiskFile[];
}

/** Copies the current include files to DIR/.mirror-backup/<time>-<from>-to-<to>/ before anything is written. */
export async function backupIncludeFiles(dir: string, names: readonly string[], label: string, now = new Date()): Promise<Backup> {
  const stamp = now.toISOString().replace(/[:.]/g, '-');
  const backupDir = join(dir, backupDirName, `${stamp}-${label}`);
  // The include directory keeps the usual mode; only the backups are owner-only.
  await mkdir(dir, { recursive: true });
  await mkdir(join(dir, backupDirName), { recursive: true, mode: 0o700 });
  await mkdir(backupDir, { recursive: true, mode: 0o700 });
  const files = await readIncludeFiles(dir, names);
  for (const file of files) if (file.contents !== undefined) await copyFile(join(dir, file.name), join(backupDir, file.name));
  return { dir: backupDir, files };
}

export async function writeIncludeFiles(dir: string, files: readonly Pick<RenderedFile, 'name' | 'contents'>[]): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const paths: string[] = [];
  for (const file of files) {
    const path = join(dir, file.name);
    await writeFileAtomic(path, file.contents);
    paths.push(path);
  }
  return paths;
}

/** Puts every file back as it was: rewritten atomically from the backup, or removed if it did not exist. */
export async function restoreBackup(dir: string, backup: Backup): Promise<void> {
  for (const file of backup.files) {
    const path = join(dir, file.name);
    if (file.contents === undefined) await rm(path, { force: true });
    else await writeFileAtomic(path, await readFile(join(backup.dir, file.name)));
  }
}
