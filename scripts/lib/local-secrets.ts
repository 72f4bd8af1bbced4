/**
 * Secrets of the local stack, made on first use and kept in its data directory (owner-only), so that what one
 * process signs (unsubscribe links in emails from `retrostride emails`) another verifies (the dev API server).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export async function localSecret(dataDir: string, name: string): Promise<string> {
  const dir = join(dataDir, 'secrets');
  const path = join(dir, name);
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const secret = randomBytes(32).toString('base64url');
  // `wx`: if another process made it meanwhile, theirs wins and is read back.
  await writeFile(path, `${secret}\n`, { flag: 'wx', mode: 0o600 }).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'EEXIST') throw error;
  });
  return (await readFile(path, 'utf8')).trim();
}
