/**
 * A treadmill's status by UTC hour, in the rollups table (docs/architecture.md sections 7.1 and 7.5):
 * `STATUS#{gymId}#{treadmillId}` / `HOUR#{yyyy-mm-ddThh}`: the hour's last motor temperature, belt hours and
 * odometer, its hottest motor reading, and `expiresAt` (TTL).
 *
 * Every write is idempotent and order-free: the last values are set only by a reading later than the stored one,
 * the maximum only by a hotter one, so a replayed or reordered batch leaves the same item.
 */
import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { DAY_MS } from '../../shared/src/iso-week.js';
import {
  HOUR_MS,
  hourKey,
  hourStartTs,
  STATUS_HOUR_RETENTION_DAYS,
  type StatusHour,
} from '../../shared/src/metrics/treadmill-status-history.js';
import { queryAll } from './dynamo-paging.js';
import { isConditionFailure, type TreadmillKey } from './fleet-repo.js';

const statusKey = ({ gymId, treadmillId }: TreadmillKey, hour: string) => ({
  pk: `STATUS#${gymId}#${treadmillId}`,
  sk: `HOUR#${hour}`,
});

/** Epoch seconds, as DynamoDB's TTL wants them. */
const expiryOf = (hour: string): number =>
  Math.floor((hourStartTs(hour) + STATUS_HOUR_RETENTION_DAYS * DAY_MS) / 1000);

/** The counters a reading may carry, as stored. */
const COUNTERS = ['motorTempC', 'beltHours', 'odometerKm'] as const;

export class TreadmillStatusRepo {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** At most two small writes per hour given: the last values, and the hottest reading when there is one. */
  async putHours(key: TreadmillKey, hours: readonly StatusHour[]): Promise<void> {
    await Promise.all(hours.map((hour) => this.putHour(key, hour)));
  }

  private async putHour(key: TreadmillKey, hour: StatusHour): Promise<void> {
    const set = COUNTERS.filter((name) => hour[name] !== undefined);
    const values: Record<string, number> = { ':ts': hour.lastTs, ':exp': expiryOf(hour.hour) };
    for (const name of set) values[`:${name}`] = hour[name] as number;
    const writes = [
      this.conditional({
        TableName: this.tableName,
        Key: statusKey(key, hour.hour),
        UpdateExpression: `SET ${['lastTs = :ts', 'expiresAt = :exp', ...set.map((name) => `${name} = :${name}`)].join(', ')}`,
        ConditionExpression: 'attribute_not_exists(lastTs) OR lastTs < :ts',
        ExpressionAttributeValues: values,
      }),
    ];
    if (hour.maxMotorTempC !== undefined)
      writes.push(
        this.conditional({
          TableName: this.tableName,
          Key: statusKey(key, hour.hour),
          UpdateExpression: 'SET maxMotorTempC = :max, expiresAt = :exp',
          ConditionExpression: 'attribute_not_exists(maxMotorTempC) OR maxMotorTempC < :max',
          ExpressionAttributeValues: { ':max': hour.maxMotorTempC, ':exp': expiryOf(hour.hour) },
        }),
      );
    await Promise.all(writes);
  }

  /** A write whose condition is false changes nothing: what is stored is as new (or as hot) already. */
  private async conditional(input: ConstructorParameters<typeof UpdateCommand>[0]): Promise<void> {
    try {
      await this.doc.send(new UpdateCommand(input));
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }

  /** The hours from `fromTs` to `toTs` (both included), oldest first: bounded by the key range. */
  async listHours(key: TreadmillKey, fromTs: number, toTs: number): Promise<StatusHour[]> {
    const items = await queryAll(
      this.doc,
      {
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
        ExpressionAttributeValues: {
          ':pk': statusKey(key, '').pk,
          ':from': statusKey(key, hourKey(fromTs)).sk,
          ':to': statusKey(key, hourKey(toTs)).sk,
        },
      },
      Math.ceil((toTs - fromTs) / HOUR_MS) + 1,
    );
    return items.map((item) => {
      const hour: StatusHour = {
        hour: String(item.sk).slice('HOUR#'.length),
        lastTs: Number(item.lastTs ?? 0),
      };
      for (const name of [...COUNTERS, 'maxMotorTempC'] as const)
        if (typeof item[name] === 'number') hour[name] = item[name];
      return hour;
    });
  }
}
