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
import { projectPath } from '../paths.js';

export interface ServiceFunctionProps {
  readonly name: FunctionName;
  readonly description: string;
  readonly environment: Record<string, string>;
  readonly memorySize: number;
  readonly timeout: Duration;
  readonly logRetention: RetentionDays;
  readonly logKey: IKey;
  /** Asynchronous invocations (schedules): where a failed one goes, after `retryAttempts`. */
  readonly asyncFailure?: { destination: IDestination; retryAttempts: number; maxEventAge: Duration };
  readonly reservedConcurrency?: number;
}

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
      ...(props.reservedConcurrency !== undefined && {
        reservedConcurrentExecutions: props.reservedConcurrency,
      }),
      ...(props.asyncFailure && {
        onFailure: props.asyncFailure.destination,
        retryAttempts: props.asyncFailure.retryAttempts,
        maxEventAge: props.asyncFailure.maxEventAge,
      }),
    });
  }

  allow(...statements: PolicyStatement[]): void {
    for (const statement of statements) this.role.addToPolicy(statement);
  }
}
