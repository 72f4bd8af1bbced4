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
