/**
 * Reading every page of a DynamoDB Query or Scan: each call returns at most 1 MB, and LastEvaluatedKey says
 * where the next page starts.
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
