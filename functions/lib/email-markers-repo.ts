/**
 * One progress email per member per week: a marker item in the rollups table (pk MEMBER#{token}, sk
 * EMAIL#{yyyy-Www}), created conditionally before sending. At most once: a run that finds the marker sends
 * nothing; a send that fails releases it for the next run; a crash between claim and send leaves it claimed
 * (that member misses a week rather than getting two emails).
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, type DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';

export const emailMarkerKey = (userToken: string, week: string) => ({
  pk: `MEMBER#${userToken}`,
  sk: `EMAIL#${week}`,
});

const isConditionFailure = (error: unknown): boolean =>
  error instanceof ConditionalCheckFailedException ||
  (error instanceof Error && error.name === 'ConditionalCheckFailedException');

export class EmailMarkersRepo {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** True when this call created the marker (the email may be sent); false when one exists already. */
  async claim(userToken: string, week: string, now: number): Promise<boolean> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...emailMarkerKey(userToken, week), status: 'claimed', claimedTs: now },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async markSent(userToken: string, week: string, messageId: string, now: number): Promise<void> {
    await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: emailMarkerKey(userToken, week),
        UpdateExpression: 'SET #status = :sent, sentTs = :now, messageId = :id',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':sent': 'sent', ':now': now, ':id': messageId },
      }),
    );
  }

  /** Gives a claim back after a failed send, so the next run tries again; a sent marker is kept. */
  async release(userToken: string, week: string): Promise<void> {
    await this.doc
      .send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: emailMarkerKey(userToken, week),
          ConditionExpression: '#status = :claimed',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':claimed': 'claimed' },
        }),
      )
      .catch((error: unknown) => {
        if (!isConditionFailure(error)) throw error;
      });
  }
}
