/**
 * The spool's epoch: a ULID made with the spool and kept in its directory, naming the run of seqs the spool
 * counts. Ingest skips events at or below a treadmill's seq watermark (docs/architecture.md section 5.2), so a
 * spool that starts again at seq 1 (a replaced SD card, a reinstall, a wiped directory) must say that it is a
 * new run: the sink puts the epoch in every record, and a later epoch (ULID order is time order) tells ingest
 * that seq starts again (docs/architecture.md section 4.2).
 *
 * A spool an older gateway started has no epoch file; it gets one at open and its seqs continue, so the events
 * already in it were numbered without an epoch. They keep shipping without one (`before` holds, per key, the
 * last seq appended before the epoch), so a record ingest already applied never comes back under a new epoch.
 */
import { open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ulid } from 'ulid';
import * as z from 'zod';
import { kinesisRecordSchema } from '../../shared/src/telemetry/events.js';
import { syncDirectory } from './spool-segments.js';

const EPOCH_FILE = 'epoch';
const EPOCH_FILE_TMP = 'epoch.tmp';

const epochFileSchema = z.object({
  v: z.literal(1),
  epoch: kinesisRecordSchema.shape.epoch.unwrap(),
  /** Per key, the last seq appended before the spool had an epoch: those events ship without one. */
  before: z.record(z.string(), z.number().int().positive()).optional(),
});
type EpochFile = z.infer<typeof epochFileSchema>;

const errorMessage = (error: unknown) => (error instanceof Error ? error.message : String(error));

export class SpoolEpoch {
  private constructor(
    readonly id: string,
    private readonly before: ReadonlyMap<string, number>,
  ) {}

  /** The epoch the event of `key` with `seq` was appended under; undefined if before the spool had one. */
  of(key: string, seq: number): string | undefined {
    return seq <= (this.before.get(key) ?? 0) ? undefined : this.id;
  }

  /**
   * Reads the spool's epoch, or makes one: a spool holding no seq yet (`lastSeqs` all empty) is new and its
   * seqs start at 1 under the new epoch; one holding seqs was started by an older gateway and keeps them.
   */
  static async load(
    dir: string,
    lastSeqs: ReadonlyMap<string, number>,
    log: (line: string) => void,
  ): Promise<SpoolEpoch> {
    await rm(join(dir, EPOCH_FILE_TMP), { force: true });
    const path = join(dir, EPOCH_FILE);
    let text: string | undefined;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    if (text !== undefined) {
      let parsed: EpochFile;
      try {
        parsed = epochFileSchema.parse(JSON.parse(text));
      } catch (error) {
        // Written by rename only, so not torn. Guessing is worse than stopping: under a new epoch the events
        // already spooled would leave again as a new run, and ingest would apply twice what it had applied.
        throw new Error(`spool epoch file ${path} is unreadable: ${errorMessage(error)}`, { cause: error });
      }
      return new SpoolEpoch(parsed.epoch, new Map(Object.entries(parsed.before ?? {})));
    }

    const before = [...lastSeqs].filter(([, seq]) => seq > 0);
    const file: EpochFile = { v: 1, epoch: ulid() };
    if (before.length > 0) file.before = Object.fromEntries(before);
    // Durable before anything is appended or shipped under it: temp file, fsync, rename, fsync directory.
    const tmp = join(dir, EPOCH_FILE_TMP);
    const handle = await open(tmp, 'w');
    try {
      await handle.writeFile(JSON.stringify(file));
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, path);
    await syncDirectory(dir);
    log(
      before.length === 0
        ? `spool: new epoch ${file.epoch} for ${dir}: seq starts at 1`
        : `spool: epoch ${file.epoch} given to ${dir}, which had none; seqs continue, and the events of ${before.length} treadmills spooled before it ship without an epoch`,
    );
    return new SpoolEpoch(file.epoch, new Map(before));
  }
}
