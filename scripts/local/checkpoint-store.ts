/**
 * Where each shard of the local event-source runner has got to: the sequence number of the last record
 * through. In memory and, with a file, on disk, so a restarted local stack resumes.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

export class CheckpointStore {
  private readonly positions = new Map<string, string>();
  private writing = Promise.resolve();

  constructor(private readonly file: string | undefined) {}

  async load(): Promise<void> {
    if (!this.file) return;
    try {
      const stored = JSON.parse(await readFile(this.file, 'utf8')) as Record<string, string>;
      for (const [shardId, sequenceNumber] of Object.entries(stored))
        this.positions.set(shardId, sequenceNumber);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }

  get(shardId: string): string | undefined {
    return this.positions.get(shardId);
  }

  all(): Record<string, string> {
    return Object.fromEntries(this.positions);
  }

  /** Writes are chained so that the file always ends with the newest positions. */
  set(shardId: string, sequenceNumber: string): Promise<void> {
    this.positions.set(shardId, sequenceNumber);
    const file = this.file;
    if (!file) return Promise.resolve();
    const snapshot = JSON.stringify(this.all());
    this.writing = this.writing.then(async () => {
      await mkdir(dirname(file), { recursive: true });
      await writeFile(`${file}.tmp`, snapshot);
      await rename(`${file}.tmp`, file);
    });
    return this.writing;
  }
}
