/**
 * Least privilege, read from the synthesized template: each role's statements, as "resource: actions", must
 * equal the table below (written from what each handler calls, not from infra/), and no role of ours has a
 * `*` in an action or a resource.
 */
import { describe, expect, it } from 'vitest';
import { TABLE_NAMES } from '../../shared/src/tables.js';
import { asArray, buildStack, logicalId, roleStatements } from './support.js';

const { stack, template } = buildStack();

/** Friendly names for the logical ids a policy can point at. */
const names = new Map<string, string>();
for (const name of TABLE_NAMES) names.set(logicalId(stack, stack.tables.table(name)), `table:${name}`);
names.set(logicalId(stack, stack.keys.stream), 'key:stream');
names.set(logicalId(stack, stack.keys.data), 'key:data');
names.set(logicalId(stack, stack.keys.members), 'key:members');
names.set(logicalId(stack, stack.stream.stream), 'stream');
names.set(logicalId(stack, stack.ingestFailures.queue), 'queue:ingest-failures');
names.set(logicalId(stack, stack.scheduledFailures.queue), 'queue:scheduled-failures');
names.set(logicalId(stack, stack.alerts.topic), 'topic:alerts');
names.set(logicalId(stack, stack.exports.bucket), 'bucket:exports');
names.set(logicalId(stack, stack.unsubscribe.secret), 'secret:unsubscribe');
const functions = {
  ingest: stack.ingest.function,
  sweeper: stack.sweeper.function,
  notifier: stack.alerts.notifier,
  api: stack.api.function,
  export: stack.exports.function,
  'progress-email': stack.progressEmail.function,
};
for (const [name, fn] of Object.entries(functions)) {
  names.set(logicalId(stack, fn.logGroup), `logs:${name}`);
  names.set(logicalId(stack, fn.fn), `function:${name}`);
}

type Json = unknown;

function resourceName(value: Json): string {
  if (typeof value === 'string') return value;
  const object = value as Record<string, Json>;
  const getAtt = object['Fn::GetAtt'] as [string, string] | undefined;
  if (getAtt) return names.get(getAtt[0]) ?? `?${getAtt[0]}`;
  const ref = object.Ref as string | undefined;
  if (ref) return names.get(ref) ?? `?${ref}`;
  const join = object['Fn::Join'] as [string, Json[]] | undefined;
  if (join) {
    const parts = join[1].map(resourceName);
    // A log group's ARN spelled out (`arn:...:log-group:<name>`) names the same log group as its GetAtt.
    const logGroup = parts.find((part) => part.startsWith('logs:'));
    // Pseudo parameters (partition, region, account) drop out: `arn::ses:::identity/x` reads `arn:ses:identity/x`.
    return (
      logGroup ??
      parts
        .filter((part) => !part.startsWith('?AWS::'))
        .join('')
        .replace(/:{2,}/g, ':')
    );
  }
  return JSON.stringify(value);
}

/** "resource [via service]" -> sorted actions, for one role. */
function matrixOf(roleId: string): Record<string, string[]> {
  const matrix: Record<string, Set<string>> = {};
  for (const statement of roleStatements(template, roleId)) {
    expect(statement.Effect).toBe('Allow');
    const via = (statement.Condition as { StringEquals?: Record<string, Json> } | undefined)?.StringEquals?.[
      'kms:ViaService'
    ];
    const suffix = via ? ` via ${resourceName(via).split('.')[0]}` : '';
    for (const resource of asArray(statement.Resource as Json | Json[])) {
      const key = `${resourceName(resource)}${suffix}`;
      matrix[key] ??= new Set();
      for (const action of asArray(statement.Action as string | string[])) matrix[key].add(action);
    }
  }
  return Object.fromEntries(Object.entries(matrix).map(([key, actions]) => [key, [...actions].sort()]));
}

const dynamo = (...actions: string[]) => actions.map((action) => `dynamodb:${action}`).sort();
const KEY_READ = ['kms:Decrypt', 'kms:DescribeKey'];
const KEY_WRITE = ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey'];
const KEY_SEND = ['kms:Decrypt', 'kms:GenerateDataKey'];
const LOGS = ['logs:CreateLogStream', 'logs:PutLogEvents'];
/** The secret's value, and the data key it is encrypted with, only by way of Secrets Manager. */
const READ_UNSUBSCRIBE_SECRET = {
  'secret:unsubscribe': ['secretsmanager:GetSecretValue'],
  'key:data via secretsmanager': ['kms:Decrypt'],
};
const PUBLISH_ALERTS = { 'topic:alerts': ['sns:Publish'], 'key:data via sns': KEY_SEND };
/** TreadmillProcessor (ingest and sweeper): fleet item read and conditional update, session puts, rollup
 * read, conditional add, marker puts and the delete of marked entries, member profile read, alert read/put plus
 * the outbox query and clear. */
const PROCESSOR = {
  'table:fleet': dynamo('GetItem', 'UpdateItem'),
  'table:sessions': dynamo('PutItem'),
  'table:rollups': dynamo('GetItem', 'PutItem', 'UpdateItem'),
  'table:members': dynamo('GetItem'),
  'key:members via dynamodb': KEY_READ,
  'table:alerts': dynamo('GetItem', 'PutItem', 'Query', 'UpdateItem'),
  'table:alerts/index/notifyPending': dynamo('Query'),
  'key:data via dynamodb': KEY_WRITE,
};

const EXPECTED: Record<keyof typeof functions, Record<string, string[]>> = {
  ingest: {
    'logs:ingest': LOGS,
    stream: [
      'kinesis:DescribeStream',
      'kinesis:DescribeStreamSummary',
      'kinesis:GetRecords',
      'kinesis:GetShardIterator',
      'kinesis:ListShards',
    ],
    'key:stream via kinesis': ['kms:Decrypt'],
    ...PROCESSOR,
    'table:deadletter': dynamo('PutItem'),
    ...PUBLISH_ALERTS,
    'queue:ingest-failures': ['sqs:SendMessage'],
    'key:data via sqs': KEY_SEND,
  },
  sweeper: {
    'logs:sweeper': LOGS,
    ...PROCESSOR,
    // Silent treadmills: a filtered scan of the fleet; idle sessions: the `active` index.
    'table:fleet': dynamo('GetItem', 'Scan', 'UpdateItem'),
    'table:sessions': dynamo('PutItem'),
    'table:sessions/index/active': dynamo('Query'),
    ...PUBLISH_ALERTS,
    'queue:scheduled-failures': ['sqs:SendMessage'],
    'key:data via sqs': KEY_SEND,
  },
  notifier: {
    'logs:notifier': LOGS,
    'table:alerts': dynamo('UpdateItem'),
    'table:alerts/index/notifyPending': dynamo('Query'),
    'key:data via dynamodb': KEY_WRITE,
    ...PUBLISH_ALERTS,
    'queue:scheduled-failures': ['sqs:SendMessage'],
    'key:data via sqs': KEY_SEND,
  },
  api: {
    'logs:api': LOGS,
    'table:fleet': dynamo('GetItem', 'Query'),
    'table:sessions': dynamo('GetItem', 'Query'),
    'table:sessions/index/byGym': dynamo('Query'),
    // Acknowledging or snoozing an alert writes it, and the gym's thresholds; nothing else is written. History
    // is paged on the byGym and byTreadmill indexes.
    'table:alerts': dynamo('GetItem', 'PutItem', 'Query'),
    'table:alerts/index/byGym': dynamo('Query'),
    'table:alerts/index/byTreadmill': dynamo('Query'),
    'table:rollups': dynamo('GetItem', 'Query'),
    'key:data via dynamodb': KEY_WRITE,
    // A member's consent: read, and changed by an operator or the member's unsubscribe link.
    'table:members': dynamo('GetItem', 'UpdateItem'),
    'key:members via dynamodb': KEY_WRITE,
    // The unsubscribe route's signing secret, read once per container (never in the environment).
    ...READ_UNSUBSCRIBE_SECRET,
  },
  export: {
    'logs:export': LOGS,
    // Aggregates only: the rollups, never the members table.
    'table:rollups': dynamo('Query'),
    'key:data via dynamodb': KEY_READ,
    'bucket:exports/*': ['s3:GetObject', 's3:PutObject'],
    'key:data via s3': KEY_SEND,
  },
  'progress-email': {
    'logs:progress-email': LOGS,
    // Consenting members with an address (a weekly scan), their weeks, and the sent markers.
    'table:members': dynamo('Scan'),
    'key:members via dynamodb': KEY_READ,
    'table:rollups': dynamo('DeleteItem', 'PutItem', 'Query', 'UpdateItem'),
    'key:data via dynamodb': KEY_WRITE,
    'arn:ses:identity/example.com': ['ses:SendEmail', 'ses:SendRawEmail'],
    ...READ_UNSUBSCRIBE_SECRET,
    'queue:scheduled-failures': ['sqs:SendMessage'],
    'key:data via sqs': KEY_SEND,
  },
};

describe('IAM policy matrix', () => {
  it.each(Object.entries(functions))('%s role is exactly its expected grants', (name, fn) => {
    const expected = EXPECTED[name as keyof typeof functions];
    expect(matrixOf(logicalId(stack, fn.role))).toEqual(
      Object.fromEntries(Object.entries(expected).map(([key, actions]) => [key, [...actions].sort()])),
    );
  });

  it('personal data: only the API writes the members table (consent), only the weekly email lists it', () => {
    const access = (action: string) =>
      Object.entries(functions)
        .filter(([, fn]) => matrixOf(logicalId(stack, fn.role))['table:members']?.includes(action))
        .map(([name]) => name)
        .sort();
    expect(access('dynamodb:UpdateItem')).toEqual(['api']);
    expect(access('dynamodb:PutItem')).toEqual([]);
    expect(access('dynamodb:Scan')).toEqual(['progress-email']);
    expect(access('dynamodb:GetItem')).toEqual(['api', 'ingest', 'sweeper']);
  });

  it('the weekly email may send only from the configured address of the configured identity', () => {
    const statement = roleStatements(template, logicalId(stack, stack.progressEmail.function.role)).find(
      (candidate) => asArray(candidate.Action as string | string[]).includes('ses:SendEmail'),
    );
    expect(statement?.Condition).toEqual({ StringEquals: { 'ses:FromAddress': 'progress@example.com' } });
  });

  it('each schedule may invoke its own function and nothing else', () => {
    const schedules = template.findResources('AWS::Scheduler::Schedule');
    expect(Object.keys(schedules)).toHaveLength(3);
    for (const schedule of Object.values(schedules)) {
      const target = (schedule.Properties as { Target: { Arn: Json; RoleArn: { 'Fn::GetAtt': [string] } } })
        .Target;
      expect(matrixOf(target.RoleArn['Fn::GetAtt'][0])).toEqual({
        [resourceName(target.Arn)]: ['lambda:InvokeFunction'],
      });
    }
  });

  it("the gateway role may only put records on the stream, with the stream's key", () => {
    expect(matrixOf(logicalId(stack, stack.gateway.role))).toEqual({
      stream: ['kinesis:DescribeStreamSummary', 'kinesis:PutRecord', 'kinesis:PutRecords'],
      'key:stream via kinesis': ['kms:GenerateDataKey'],
    });
  });

  it('no policy of ours has a wildcard action; the only wildcard resource is the export bucket’s objects', () => {
    const actions: string[] = [];
    const resources: string[] = [];
    for (const [id, policy] of Object.entries(template.findResources('AWS::IAM::Policy'))) {
      // CDK's BucketDeployment handler: its wildcards are acknowledged where the dashboard is deployed.
      if (id.startsWith('CustomCDKBucketDeployment')) continue;
      const statements = (policy.Properties as { PolicyDocument: { Statement: Array<Record<string, Json>> } })
        .PolicyDocument.Statement;
      for (const statement of statements) {
        for (const action of asArray(statement.Action as string | string[]))
          if (action.includes('*')) actions.push(`${id}: ${action}`);
        for (const resource of asArray(statement.Resource as Json | Json[]))
          if (JSON.stringify(resource).includes('*')) resources.push(resourceName(resource));
      }
    }
    expect(actions).toEqual([]);
    // Each export is a fresh folder of the bucket: its objects can only be named by a pattern.
    expect(resources).toEqual(['bucket:exports/*']);
  });

  it('no role has an AWS managed policy (only CDK’s acknowledged deployment helper does)', () => {
    const withManaged = Object.entries(template.findResources('AWS::IAM::Role'))
      .filter(([id]) => !id.startsWith('CustomCDKBucketDeployment'))
      .filter(([, role]) => (role.Properties as { ManagedPolicyArns?: unknown[] }).ManagedPolicyArns);
    expect(withManaged.map(([id]) => id)).toEqual([]);
  });
});
