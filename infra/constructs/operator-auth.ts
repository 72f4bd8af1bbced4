/**
 * Sign-in for fleet operators and researchers (docs/architecture.md section 8): a Cognito user pool without self sign-up
 * (an administrator invites people), MFA required, groups `operator` and `researcher`, and the `custom:gyms`
 * attribute that scopes every API call (functions/api/identity.ts reads both claims from the ID token).
 *
 * The dashboard's app client is public (a browser cannot keep a secret) and uses the authorization-code grant
 * with PKCE; it may not write `custom:gyms`, so nobody can widen their own access.
 */
import { Aws, Duration, type RemovalPolicy } from 'aws-cdk-lib';
import {
  AccountRecovery,
  ClientAttributes,
  FeaturePlan,
  Mfa,
  OAuthScope,
  StringAttribute,
  UserPool,
  type UserPoolClient,
  UserPoolClientIdentityProvider,
  type UserPoolDomain,
} from 'aws-cdk-lib/aws-cognito';
import { Construct } from 'constructs';
import { acknowledge } from '../nag.js';

/** Cognito groups the API knows (functions/api/identity.ts roleSchema). */
export const OPERATOR_GROUPS = ['operator', 'researcher'] as const;
/** The custom attribute listing the gyms a user may see, comma-separated. */
export const GYMS_ATTRIBUTE = 'gyms';
export const DASHBOARD_SCOPES = [OAuthScope.OPENID, OAuthScope.EMAIL, OAuthScope.PROFILE];

export interface OperatorAuthProps {
  readonly stage: string;
  readonly removalPolicy: RemovalPolicy;
  readonly deletionProtection: boolean;
}

export class OperatorAuth extends Construct {
  readonly userPool: UserPool;
  readonly domain: UserPoolDomain;

  constructor(scope: Construct, id: string, props: OperatorAuthProps) {
    super(scope, id);
    this.userPool = new UserPool(this, 'Users', {
      selfSignUpEnabled: false,
      signInAliases: { email: true },
      autoVerify: { email: true },
      mfa: Mfa.REQUIRED,
      mfaSecondFactor: { otp: true, sms: false },
      passwordPolicy: {
        minLength: 12,
        requireLowercase: true,
        requireUppercase: true,
        requireDigits: true,
        requireSymbols: true,
        tempPasswordValidity: Duration.days(3),
      },
      accountRecovery: AccountRecovery.EMAIL_ONLY,
      customAttributes: { [GYMS_ATTRIBUTE]: new StringAttribute({ mutable: true, maxLen: 2048 }) },
      featurePlan: FeaturePlan.ESSENTIALS,
      deletionProtection: props.deletionProtection,
      removalPolicy: props.removalPolicy,
    });
    for (const group of OPERATOR_GROUPS) {
      this.userPool.addGroup(group, { groupName: group, description: `Retrostride ${group}s` });
    }
    this.domain = this.userPool.addDomain('HostedUi', {
      // Domain prefixes are global per region: the account id keeps each installation's own.
      cognitoDomain: { domainPrefix: `retrostride-${props.stage}-${Aws.ACCOUNT_ID}` },
    });
    acknowledge(
      this.userPool,
      'The Plus plan (threat protection) costs per monthly active user; the pool is invite-only with MFA required and strong passwords, which covers an operator audience.',
      'AwsSolutions-COG8',
    );
  }

  /** The dashboard's client, for a site at `siteUrl` (e.g. `https://d111.cloudfront.net`). */
  addDashboardClient(siteUrl: string): UserPoolClient {
    const redirect = `${siteUrl}/`;
    return this.userPool.addClient('Dashboard', {
      generateSecret: false,
      authFlows: { userSrp: true },
      oAuth: {
        flows: { authorizationCodeGrant: true },
        scopes: DASHBOARD_SCOPES,
        callbackUrls: [redirect],
        logoutUrls: [redirect],
      },
      supportedIdentityProviders: [UserPoolClientIdentityProvider.COGNITO],
      preventUserExistenceErrors: true,
      idTokenValidity: Duration.hours(1),
      accessTokenValidity: Duration.hours(1),
      refreshTokenValidity: Duration.hours(12),
      writeAttributes: new ClientAttributes().withStandardAttributes({ fullname: true }),
    });
  }
}
