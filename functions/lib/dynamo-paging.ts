/**
 * Reading a DynamoDB Query or Scan page by page: each call returns at most 1 MB, and LastEvaluatedKey says where
 * the next page starts. `queryAll` and `scanAll` read every page, so their callers must bound what they ask for
 * (a key range, a limit, or a set that cannot grow with time); `queryPage` hands one page and an opaque cursor to
 * an API (docs/architecture.md section 7.5 lists every reader and its bound).
 */
import {
  type DynamoDBDocumentClient,
  QueryCommand,
  type QueryCommandInput,
  type QueryCommandOutput,
  ScanCommand,
  type ScanCommandInput,
} from '@aws-sdk/lib-dynamodb';

/** An item as the DocumentClient unmarshals it. */
export type Item = NonNullable<QueryCommandOutput['Items']>[number];

/**
 * Every item the query matches, page after page. With `limit`, it stops once it has that many, and each page
 * asks only for those still missing (Limit counts the items evaluated, so a filtered page may hold fewer).
 */
export async function queryAll(
  doc: DynamoDBDocumentClient,
  input: QueryCommandInput,
  limit = Number.POSITIVE_INFINITY,
): Promise<Item[]> {
  const items: Item[] = [];
  let startKey: QueryCommandInput['ExclusiveStartKey'];
  do {
    const page = await doc.send(
      new QueryCommand({
        ...input,
        ...(startKey && { ExclusiveStartKey: startKey }),
        ...(Number.isFinite(limit) && { Limit: limit - items.length }),
      }),
    );
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey && items.length < limit);
  return items;
}

/** Every item the scan matches, page after page. */
export async function scanAll(doc: DynamoDBDocumentClient, input: ScanCommandInput): Promise<Item[]> {
  const items: Item[] = [];
  let startKey: ScanCommandInput['ExclusiveStartKey'];
  do {
    const page = await doc.send(
      new ScanCommand({ ...input, ...(startKey && { ExclusiveStartKey: startKey }) }),
    );
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return items;
}

/** One page of a query and, when there is more, the cursor the next page starts from. */
export interface Page {
  items: Item[];
  /** Opaque to callers: base64url JSON of DynamoDB's LastEvaluatedKey; null on the last page. */
  cursor: string | null;
}

/** A cursor that is not one this API handed out, or not for this listing. */
export class InvalidCursorError extends Error {
  constructor(reason: string) {
    super(`invalid cursor: ${reason}`);
    this.name = 'InvalidCursorError';
  }
}

type StartKey = NonNullable<QueryCommandInput['ExclusiveStartKey']>;

export const encodeCursor = (key: StartKey): string =>
  Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');

/**
 * The start key in a cursor, refused unless it has exactly the attributes `shape` names, of the types given, and
 * `check` accepts it (e.g. that it is in the caller's gym: a cursor is the caller's own text).
 */
export function decodeCursor(
  cursor: string,
  shape: Readonly<Record<string, 'string' | 'number'>>,
  check: (key: StartKey) => boolean,
): StartKey {
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidCursorError('not a cursor of this API');
  }
  if (typeof key !== 'object' || key === null || Array.isArray(key))
    throw new InvalidCursorError('not a cursor of this API');
  const entries = Object.entries(key);
  const fits =
    entries.length === Object.keys(shape).length &&
    entries.every(([name, value]) => shape[name] !== undefined && typeof value === shape[name]);
  if (!fits || !check(key as StartKey)) throw new InvalidCursorError('not a cursor of this listing');
  return key as StartKey;
}

/**
 * Up to `limit` items from `cursor` on. Several calls when a filter leaves a call short, until the page is full,
 * the query ends or `maxCalls` calls were made (each evaluates at most `limit` items: a filter that matches
 * little then ends a short page with a cursor rather than reading on); the cursor then points after the last
 * item evaluated, never past a matching one not returned.
 */
export async function queryPage(
  doc: DynamoDBDocumentClient,
  input: QueryCommandInput,
  limit: number,
  startKey?: StartKey,
  maxCalls = Number.POSITIVE_INFINITY,
): Promise<Page> {
  const items: Item[] = [];
  let next: StartKey | undefined = startKey;
  let calls = 0;
  do {
    calls++;
    const page = await doc.send(
      new QueryCommand({
        ...input,
        ...(next && { ExclusiveStartKey: next }),
        Limit: limit - items.length,
      }),
    );
    items.push(...(page.Items ?? []));
    next = page.LastEvaluatedKey;
  } while (next && items.length < limit && calls < maxCalls);
  return { items, cursor: next ? encodeCursor(next) : null };
}
