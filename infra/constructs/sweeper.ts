/**
 * The sweeper (docs/architecture.md section 1), every minute: closes idle sessions and marks silent treadmills offline
 * through the same processor as ingest, so it needs the processor's access plus the two listings it starts
 * from (active sessions by index, silent treadmills by a filtered scan of the fleet).
 */
import { Duration } from 'aws-cdk-lib';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { Alerts } from './alerts.js';
import type { DataTables, TableAccess } from './data-tables.js';
import type { FailureQueue } from './failure-queue.js';
import { PROCESSOR_ACCESS } from './ingest.js';
import { ScheduledInvocation } from './schedule.js';
import { ServiceFunction } from './service-function.js';

export const SWEEPER_ACCESS = {
  ...PROCESSOR_ACCESS,
  fleet: [...PROCESSOR_ACCESS.fleet, 'Scan'],
  sessions: [...PROCESSOR_ACCESS.sessions, 'Query@active'],
} as const satisfies TableAccess;

export interface SweeperProps {
  readonly tables: DataTables;
  readonly alerts: Alerts;
  readonly scheduledFailures: FailureQueue;
  readonly logKey: IKey;
  readonly logRetention: RetentionDays;
}

export class Sweeper extends Construct {
  readonly function: ServiceFunction;

  constructor(scope: Construct, id: string, props: SweeperProps) {
    super(scope, id);
    this.function = new ServiceFunction(this, 'Sweeper', {
      name: 'sweeper',
      description: 'Closes idle sessions and marks silent treadmills offline; every minute',
      environment: { TABLE_PREFIX: props.tables.prefix, ...props.alerts.transportEnvironment },
      memorySize: 512,
      timeout: Duration.seconds(50),
      logRetention: props.logRetention,
      logKey: props.logKey,
      // A failed run is made up by the next minute's.
      invocation: {
        kind: 'asynchronous',
        onFailure: props.scheduledFailures,
        retryAttempts: 0,
        maxEventAge: Duration.minutes(1),
      },
    });
    props.tables.grant(this.function.role, SWEEPER_ACCESS);
    props.alerts.grantPublish(this.function.role);
    new ScheduledInvocation(this, 'EveryMinute', {
      target: this.function.fn,
      description: 'Retrostride sweeper, every minute',
      expression: 'rate(1 minute)',
      retryAttempts: 0,
      maxEventAge: Duration.minutes(1),
    });
  }
}
