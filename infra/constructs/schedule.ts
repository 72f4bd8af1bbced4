/**
 * An EventBridge Scheduler schedule that invokes one function, through a role that may invoke that function
 * and nothing else (the L2 target would also grant every version and alias of it).
 */
import { Aws, type Duration } from 'aws-cdk-lib';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { CfnSchedule } from 'aws-cdk-lib/aws-scheduler';
import { Construct } from 'constructs';

export interface ScheduledInvocationProps {
  readonly target: IFunction;
  readonly description: string;
  /** `rate(1 minute)` or `cron(...)`. */
  readonly expression: string;
  readonly timezone?: string;
  /** Scheduler's own retries of a failed hand-over to Lambda (Lambda then retries failed runs itself). */
  readonly retryAttempts: number;
  readonly maxEventAge: Duration;
}

export class ScheduledInvocation extends Construct {
  readonly schedule: CfnSchedule;
  readonly role: Role;

  constructor(scope: Construct, id: string, props: ScheduledInvocationProps) {
    super(scope, id);
    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
      }),
      description: props.description,
    });
    this.role.addToPolicy(
      new PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [props.target.functionArn] }),
    );
    this.schedule = new CfnSchedule(this, 'Schedule', {
      description: props.description,
      scheduleExpression: props.expression,
      ...(props.timezone && { scheduleExpressionTimezone: props.timezone }),
      flexibleTimeWindow: { mode: 'OFF' },
      state: 'ENABLED',
      target: {
        arn: props.target.functionArn,
        roleArn: this.role.roleArn,
        retryPolicy: {
          maximumRetryAttempts: props.retryAttempts,
          maximumEventAgeInSeconds: props.maxEventAge.toSeconds(),
        },
      },
    });
    // The role's policy must exist before the schedule first fires.
    this.schedule.node.addDependency(this.role);
  }
}
