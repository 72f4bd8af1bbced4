/**
 * On-disk format of the spool's segment files. A segment is a sequence of entries; one entry holds the
 * events of one append() call, so an append survives a crash whole or not at all (an append larger
 * than a segment is split into entries, each whole):
 *
 *   entry  = u32 LE body length (> 0) | u32 LE CRC32 of the body | body
 *   body   = event+
 *   event  = u48 LE seq | u48 LE rxTs | u8 key length | key (UTF-8) | u32 LE JSON length | event JSON (UTF-8)
 *
 * Key, seq and rxTs sit outside the JSON so that opening and paging never parse JSON they do not keep.
 *
 * Damage (a flipped bit, a bad flash page) is told apart from the last write cut short by a crash by what
 * follows it: sortOutDamage() looks past a bad entry for the next one whose length and CRC check out.
 */
import type { FileHandle } from 'node:fs/promises';
import { crc32 } from 'node:zlib';

export const ENTRY_HEADER_BYTES = 8;
const UINT48_BYTES = 6;
const EVENT_FIXED_BYTES = UINT48_BYTES * 2 + 1 + 4;
export const MAX_UINT48 = 2 ** 48 - 1;
export const MAX_KEY_BYTES = 255;
/** Reads go in chunks of this size (or one entry, if larger), so scanning a segment never holds it whole. */
const READ_CHUNK_BYTES = 1024 * 1024;

export interface EventToEncode {
  readonly key: string;
  readonly seq: number;
  readonly rxTs: number;
  readonly json: string;
  /** UTF-8 sizes of key and json. */
  readonly keyBytes: number;
  readonly jsonBytes: number;
}

/** What an event adds to an entry. */
export const encodedEventBytes = (event: EventToEncode): number =>
  EVENT_FIXED_BYTES + event.keyBytes + event.jsonBytes;

export function encodeEntry(events: readonly EventToEncode[]): Buffer {
  const bodyBytes = events.reduce((sum, event) => sum + encodedEventBytes(event), 0);
  const entry = Buffer.allocUnsafe(ENTRY_HEADER_BYTES + bodyBytes);
  let at = ENTRY_HEADER_BYTES;
  for (const event of events) {
    at = entry.writeUIntLE(event.seq, at, UINT48_BYTES);
    at = entry.writeUIntLE(event.rxTs, at, UINT48_BYTES);
    at = entry.writeUInt8(event.keyBytes, at);
    at += entry.write(event.key, at, 'utf8');
    at = entry.writeUInt32LE(event.jsonBytes, at);
    at += entry.write(event.json, at, 'utf8');
  }
  entry.writeUInt32LE(bodyBytes, 0);
  entry.writeUInt32LE(crc32(entry.subarray(ENTRY_HEADER_BYTES)), 4);
  return entry;
}

/** Where an event's fields lie in an entry body; the JSON is decoded only by callers that keep it. */
export interface EventView {
  readonly key: string;
  readonly seq: number;
  readonly rxTs: number;
  readonly jsonStart: number;
  readonly jsonEnd: number;
}

/** Events of a CRC-checked body, in order. Throws if the body is not laid out as written (a bug, not damage). */
export function eventsOf(body: Buffer): EventView[] {
  const events: EventView[] = [];
  let at = 0;
  while (at < body.length) {
    if (at + EVENT_FIXED_BYTES > body.length)
      throw new Error('malformed spool entry: truncated event header');
    const seq = body.readUIntLE(at, UINT48_BYTES);
    const rxTs = body.readUIntLE(at + UINT48_BYTES, UINT48_BYTES);
    const keyBytes = body.readUInt8(at + UINT48_BYTES * 2);
    const keyStart = at + UINT48_BYTES * 2 + 1;
    const jsonStart = keyStart + keyBytes + 4;
    if (jsonStart > body.length) throw new Error('malformed spool entry: truncated key');
    const jsonEnd = jsonStart + body.readUInt32LE(keyStart + keyBytes);
    if (jsonEnd > body.length) throw new Error('malformed spool entry: truncated event JSON');
    events.push({ key: body.toString('utf8', keyStart, keyStart + keyBytes), seq, rxTs, jsonStart, jsonEnd });
    at = jsonEnd;
  }
  return events;
}

export interface ScanResult {
  /** Offset just past the last entry visited (where the scan stopped or the good data ends). */
  readonly end: number;
  /** True when the scan stopped at a torn or corrupt entry rather than at `to` or at the visitor's request. */
  readonly corrupt: boolean;
}

/**
 * Visits the entries of `file` in [from, to) in order, verifying each CRC. Stops at the first torn or
 * corrupt entry (a length running past `to`, a zero length as left by a file extended with zeros, a CRC
 * mismatch), or when `visit` returns false for an entry, which then counts as not visited.
 */
export async function scanEntries(
  file: FileHandle,
  from: number,
  to: number,
  visit: (body: Buffer, offset: number, end: number) => boolean,
): Promise<ScanResult> {
  let chunk = Buffer.alloc(0);
  let chunkStart = from;
  // Makes [offset, offset + bytes) available in `chunk`; false if the file ends first.
  const ensure = async (offset: number, bytes: number): Promise<boolean> => {
    if (offset >= chunkStart && offset + bytes <= chunkStart + chunk.length) return true;
    const length = Math.min(Math.max(bytes, READ_CHUNK_BYTES), to - offset);
    chunk = Buffer.allocUnsafe(length);
    chunkStart = offset;
    const { bytesRead } = await file.read(chunk, 0, length, offset);
    chunk = chunk.subarray(0, bytesRead);
    return bytesRead >= bytes;
  };

  let offset = from;
  while (offset < to) {
    if (offset + ENTRY_HEADER_BYTES > to || !(await ensure(offset, ENTRY_HEADER_BYTES))) {
      return { end: offset, corrupt: true };
    }
    const bodyBytes = chunk.readUInt32LE(offset - chunkStart);
    const checksum = chunk.readUInt32LE(offset - chunkStart + 4);
    const end = offset + ENTRY_HEADER_BYTES + bodyBytes;
    if (bodyBytes === 0 || end > to || !(await ensure(offset, end - offset)))
      return { end: offset, corrupt: true };
    const body = chunk.subarray(offset - chunkStart + ENTRY_HEADER_BYTES, end - chunkStart);
    if (crc32(body) !== checksum) return { end: offset, corrupt: true };
    if (!visit(body, offset, end)) return { end: offset, corrupt: false };
    offset = end;
  }
  return { end: offset, corrupt: false };
}

/** Partition key bytes: `{gymId}/{treadmillId}`, ids of [A-Za-z0-9_.-] (docs/architecture.md section 2). */
function isKeyByte(byte: number): boolean {
  return (
    (byte >= 0x30 && byte <= 0x39) ||
    (byte >= 0x41 && byte <= 0x5a) ||
    (byte >= 0x61 && byte <= 0x7a) ||
    byte === 0x2d ||
    byte === 0x2e ||
    byte === 0x2f ||
    byte === 0x5f
  );
}

/**
 * Events of a body whose CRC may not match, if its framing holds: every event's lengths land exactly on the
 * body's end, seqs are positive and keys look like partition keys. Undefined when it does not.
 */
export function eventsOfDamaged(body: Buffer): EventView[] | undefined {
  const events: EventView[] = [];
  let at = 0;
  while (at < body.length) {
    if (at + EVENT_FIXED_BYTES > body.length) return undefined;
    const seq = body.readUIntLE(at, UINT48_BYTES);
    const keyBytes = body.readUInt8(at + UINT48_BYTES * 2);
    const keyStart = at + UINT48_BYTES * 2 + 1;
    const jsonStart = keyStart + keyBytes + 4;
    if (seq === 0 || keyBytes < 3 || jsonStart > body.length) return undefined;
    for (let index = keyStart; index < keyStart + keyBytes; index++) {
      if (!isKeyByte(body[index]!)) return undefined;
    }
    const jsonEnd = jsonStart + body.readUInt32LE(keyStart + keyBytes);
    if (jsonEnd > body.length) return undefined;
    const key = body.toString('utf8', keyStart, keyStart + keyBytes);
    events.push({ key, seq, rxTs: body.readUIntLE(at + UINT48_BYTES, UINT48_BYTES), jsonStart, jsonEnd });
    at = jsonEnd;
  }
  return events.length > 0 ? events : undefined;
}

/** End of the valid entry at `offset` of `buffer` (length within it, framing holding, CRC matching), if any. */
function validEntryEnd(buffer: Buffer, offset: number): number | undefined {
  if (offset + ENTRY_HEADER_BYTES > buffer.length) return undefined;
  const bodyBytes = buffer.readUInt32LE(offset);
  const end = offset + ENTRY_HEADER_BYTES + bodyBytes;
  if (bodyBytes === 0 || end > buffer.length) return undefined;
  const body = buffer.subarray(offset + ENTRY_HEADER_BYTES, end);
  // The framing check first: it turns almost every position inside garbage away before a CRC is computed.
  if (eventsOfDamaged(body) === undefined) return undefined;
  return crc32(body) === buffer.readUInt32LE(offset + 4) ? end : undefined;
}

/** A run of bytes between valid entries (or up to the end) that holds none. */
export interface DamagedRun {
  readonly kind: 'damage';
  readonly start: number;
  readonly end: number;
  /** Nothing valid follows it: at the end of the active segment, the last write cut short by a crash. */
  readonly trailing: boolean;
  /** When the run's framing holds (entries whose length headers chain exactly over it): how many entries. */
  readonly entries: number;
  /** ... and their events, as far as the framing can tell; undefined when it does not hold. */
  readonly events: EventView[] | undefined;
}

export type SegmentPiece =
  { readonly kind: 'entry'; readonly start: number; readonly end: number } | DamagedRun;

/**
 * Splits `buffer` (a whole segment) from `from`, where an entry failed its check, into valid entries and the
 * damaged runs between them, in order: past each damaged run, the next valid entry is the first offset whose
 * length and CRC check out. Run only on damage, and in memory: it looks at every byte offset of a damaged run.
 */
export function sortOutDamage(buffer: Buffer, from: number): SegmentPiece[] {
  const pieces: SegmentPiece[] = [];
  let offset = from;
  while (offset < buffer.length) {
    const end = validEntryEnd(buffer, offset);
    if (end !== undefined) {
      pieces.push({ kind: 'entry', start: offset, end });
      offset = end;
      continue;
    }
    let next = offset + 1;
    while (next < buffer.length && validEntryEnd(buffer, next) === undefined) next++;
    pieces.push(describeRun(buffer, offset, next));
    offset = next;
  }
  return pieces;
}

/** A damaged run [start, end): its entries and events when their length headers chain exactly over it. */
function describeRun(buffer: Buffer, start: number, end: number): DamagedRun {
  const run = { kind: 'damage', start, end, trailing: end === buffer.length } as const;
  const events: EventView[] = [];
  let entries = 0;
  let at = start;
  while (at < end) {
    if (at + ENTRY_HEADER_BYTES > end) return { ...run, entries: 0, events: undefined };
    const bodyStart = at + ENTRY_HEADER_BYTES;
    const bodyEnd = bodyStart + buffer.readUInt32LE(at);
    if (bodyEnd === bodyStart || bodyEnd > end) return { ...run, entries: 0, events: undefined };
    const found = eventsOfDamaged(buffer.subarray(bodyStart, bodyEnd));
    if (found === undefined) return { ...run, entries: 0, events: undefined };
    // Offsets relative to the buffer, as the caller reads the events' fields from it.
    for (const event of found)
      events.push({ ...event, jsonStart: event.jsonStart + bodyStart, jsonEnd: event.jsonEnd + bodyStart });
    entries++;
    at = bodyEnd;
  }
  return { ...run, entries, events };
}
