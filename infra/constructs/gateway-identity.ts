/**
 * The identity a gym's gateway uses in AWS (docs/architecture.md section 8): a role that may put records on the telemetry
 * stream and read its summary, nothing else, assumable by one configured principal (the account itself by
 * default, i.e. whoever its administrators allow to assume it), optionally with an external id.
 */
import { Duration } from 'aws-cdk-lib';
import { AccountRootPrincipal, ArnPrincipal, type IPrincipal, Role } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { DeployConfig } from '../config.js';
import type { TelemetryStream } from './telemetry-stream.js';

export interface GatewayIdentityProps {
  readonly config: Pick<DeployConfig, 'gatewayPrincipalArn' | 'gatewayExternalId'>;
  readonly stream: TelemetryStream;
}

export class GatewayIdentity extends Construct {
  readonly role: Role;

  constructor(scope: Construct, id: string, props: GatewayIdentityProps) {
    super(scope, id);
    const { gatewayPrincipalArn, gatewayExternalId } = props.config;
    const principal: IPrincipal = gatewayPrincipalArn
      ? new ArnPrincipal(gatewayPrincipalArn)
      : new AccountRootPrincipal();
    this.role = new Role(this, 'Role', {
      assumedBy: principal,
      ...(gatewayExternalId && { externalIds: [gatewayExternalId] }),
      description: 'Retrostride gym gateway: puts telemetry records on the stream',
      maxSessionDuration: Duration.hours(12),
    });
    props.stream.grantProduce(this.role);
  }
}
