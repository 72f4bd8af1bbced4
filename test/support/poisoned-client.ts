/** A DynamoDB client for integration tests that refuses the writes of one session, as a poisoned value would. */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { dynamoClient, LOCAL_CREDENTIALS } from '../../shared/src/aws/clients.js';
import { type EmbeddedAws, LOCAL_REGION } from '../../scripts/local/kit.js';

/**
 * A client on which every Put of one session's DETAIL fails as DynamoDB refuses a number it cannot store: the
 * poison of issue 12 (a session whose summed energy reaches 2^53 can never be written).
 */
export function poisonedClient(
  kit: EmbeddedAws,
  sessionId: string,
): { client: DynamoDBClient; refused: () => number } {
  const client: DynamoDBClient = dynamoClient({
    endpoint: kit.dynamo.endpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
  });
  let refused = 0;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { TableName?: string; Item?: { pk?: string; sk?: string } };
      if (
        context.commandName === 'PutItemCommand' &&
        input.TableName?.endsWith('-sessions') &&
        input.Item?.pk === `SESSION#${sessionId}` &&
        input.Item.sk === 'DETAIL'
      ) {
        refused++;
        const error = new Error(
          'Number overflow. Attempting to store a number with magnitude larger than supported range',
        );
        error.name = 'ValidationException';
        throw error;
      }
      return next(args);
    },
    { step: 'initialize', name: 'poisonOneSession' },
  );
  return { client, refused: () => refused };
}
