/**
 * A function as every Retrostride function is deployed: Node 22 on arm64, bundled by the shared esbuild
 * settings, configured only by environment variables, with its own role (no managed policies: each grant is
 * added where the resource is) and its own KMS-encrypted log group with a retention.
 */
import { type Duration, RemovalPolicy } from 'aws-cdk-lib';
import { type PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Architecture, type IDestination, Runtime } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { cdkBundling, type FunctionName, functionEntry } from '../bundling.js';
import { acknowledge } from '../nag.js';
import { projectPath } from '../paths.js';

export interface ServiceFunctionProps {
  readonly name: FunctionName;
  readonly description: string;
  readonly environment: Record<string, string>;
  readonly memorySize: number;
  readonly timeout: Duration;
  readonly logRetention: RetentionDays;
  readonly logKey: IKey;
  readonly invocation: Invocation;
}

/**
 * How the function is invoked: asynchronously (schedules), with an on-failure destination after
 * `retryAttempts`, or synchronously (an event source mapping, API Gateway), where those settings never apply.
 */
export type Invocation =
  | { kind: 'asynchronous'; onFailure: IDestination; retryAttempts: number; maxEventAge: Duration }
  | { kind: 'synchronous'; by: string };

export class ServiceFunction extends Construct {
  readonly fn: NodejsFunction;
  readonly role: Role;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: ServiceFunctionProps) {
    super(scope, id);
    this.logGroup = new LogGroup(this, 'Logs', {
      retention: props.logRetention,
      encryptionKey: props.logKey,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `Retrostride ${props.name} function`,
    });
    this.logGroup.grant(this.role, 'logs:CreateLogStream', 'logs:PutLogEvents');
    this.fn = new NodejsFunction(this, 'Function', {
      entry: projectPath(functionEntry(props.name)),
      projectRoot: projectPath('.'),
      depsLockFilePath: projectPath('package-lock.json'),
      handler: 'handler',
      description: props.description,
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize,
      timeout: props.timeout,
      role: this.role,
      logGroup: this.logGroup,
      environment: props.environment,
      bundling: cdkBundling,
      ...(props.invocation.kind === 'asynchronous' && {
        onFailure: props.invocation.onFailure,
        retryAttempts: props.invocation.retryAttempts,
        maxEventAge: props.invocation.maxEventAge,
      }),
    });
    acknowledge(
      this.fn,
      'Node 22 is the runtime the design targets and the test suite runs on (the node@22 dev dependency); moving to a newer one is a deliberate upgrade, tested first.',
      'AwsSolutions-L1',
      'Serverless-LambdaLatestVersion',
    );
    acknowledge(
      this.fn,
      "The handlers don't instrument with X-Ray; they emit structured logs and EMF metrics (Powertools), which the dashboard and alarms read, and X-Ray's write actions cannot be scoped to a resource.",
      'Serverless-LambdaTracing',
    );
    if (props.invocation.kind === 'asynchronous') {
      acknowledge(
        this.fn,
        'Failed asynchronous invocations go to an on-failure destination, which records the error and the request as well (a dead-letter queue would duplicate it).',
        'Serverless-LambdaDLQ',
      );
    } else {
      acknowledge(
        this.fn,
        `Invoked synchronously by ${props.invocation.by}: asynchronous retries, dead-letter queues and failure destinations never apply.`,
        'Serverless-LambdaDLQ',
        'Serverless-LambdaAsyncFailureDestination',
      );
    }
  }

  allow(...statements: PolicyStatement[]): void {
    for (const statement of statements) this.role.addToPolicy(statement);
  }
}
