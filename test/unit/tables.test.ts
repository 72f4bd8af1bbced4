import { describe, expect, it } from 'vitest';
import { createTableInput } from '../../scripts/local/provision.js';
import { PERSONAL_DATA_TAG, TABLE_NAMES, TABLES } from '../../shared/src/tables.js';

const inputs = TABLE_NAMES.map((name) => ({ name, input: createTableInput(TABLES[name], 'rs-test') }));

describe('createTableInput', () => {
  it.each(inputs)('$name: on-demand billing under the prefixed physical name', ({ name, input }) => {
    expect(input.BillingMode).toBe('PAY_PER_REQUEST');
    expect(input.TableName).toBe(`rs-test-${name}`);
  });

  it.each(inputs)('$name: declares exactly the attributes its keys and indexes use', ({ input }) => {
    const used = [
      ...(input.KeySchema ?? []),
      ...(input.GlobalSecondaryIndexes ?? []).flatMap((index) => index.KeySchema ?? []),
    ].map((key) => key.AttributeName);
    const declared = (input.AttributeDefinitions ?? []).map((attribute) => attribute.AttributeName);
    expect(new Set(declared)).toEqual(new Set(used));
    expect(declared).toHaveLength(new Set(declared).size);
  });

  it.each(inputs)('$name: one index per definition, each projecting all attributes', ({ name, input }) => {
    const indexes = input.GlobalSecondaryIndexes ?? [];
    expect(indexes.map((index) => index.IndexName)).toEqual(TABLES[name].indexes.map((index) => index.name));
    for (const index of indexes) expect(index.Projection).toEqual({ ProjectionType: 'ALL' });
  });

  it('keys sessions by member, gym and activity with numeric time sort keys', () => {
    const sessions = createTableInput(TABLES.sessions, 'p');
    expect(sessions.AttributeDefinitions).toEqual(
      expect.arrayContaining([
        { AttributeName: 'userToken', AttributeType: 'S' },
        { AttributeName: 'startTs', AttributeType: 'N' },
        { AttributeName: 'lastEventTs', AttributeType: 'N' },
      ]),
    );
    expect(sessions.KeySchema).toEqual([
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ]);
  });

  it('marks the members table, and only it, as personal data', () => {
    const personal = inputs
      .filter(({ input }) => input.Tags?.some((tag) => tag.Key === PERSONAL_DATA_TAG && tag.Value === 'true'))
      .map(({ name }) => name);
    expect(personal).toEqual(['members']);
  });
});
