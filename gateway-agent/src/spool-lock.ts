/**
 * The spool directory's lock file, naming the pid of the one process that may use the spool. Apart from the
 * spool because it is about processes sharing a directory, not about the log in it.
 */
import { open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';

const LOCK_FILE = 'spool.lock';
const LOCK_WAIT_MS = 5_000;

/** Another live process holds the spool: two writers would interleave appends and rename acks under each other. */
export class SpoolLockedError extends Error {
  override readonly name = 'SpoolLockedError';
  constructor(dir: string, pid: number) {
    super(`spool ${dir} is in use by process ${pid}; run one gateway per spool directory`);
  }
}

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Creates a lock file naming our pid; one left by a process that died (SIGKILL, power loss) is taken over. */
export async function acquireSpoolLock(dir: string): Promise<void> {
  const path = join(dir, LOCK_FILE);
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      const handle = await open(path, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number(await readFile(path, 'utf8').catch(() => ''));
      if (holder > 0 && holder !== process.pid && processIsAlive(holder)) {
        // A process killed a moment ago may not be reaped yet: give it a few seconds to disappear.
        if (Date.now() >= deadline) throw new SpoolLockedError(dir, holder);
        await new Promise((resolve) => setTimeout(resolve, 100));
        continue;
      }
      await rm(path, { force: true });
    }
  }
}

export async function releaseSpoolLock(dir: string): Promise<void> {
  await rm(join(dir, LOCK_FILE), { force: true });
}
