/**
 * The fleet dashboard (functions/dashboard) on S3 behind CloudFront with origin access control: the bucket
 * is private and only this distribution may read it. `/api/*` goes to the HTTP API through the same
 * distribution, so the page calls its own origin. `/config.json` (where the API is, how to sign in) is
 * generated at deploy time from the user pool's client and domain.
 *
 * The files come from the same list the local server serves (functions/api/dashboard-site.ts), and its pages
 * carry the same Content-Security-Policy (plus Cognito's origin, where the sign-in exchanges its code).
 */
import {
  BOOTSTRAP_QUALIFIER_CONTEXT,
  DefaultStackSynthesizer,
  Duration,
  type RemovalPolicy,
  Stack,
  Token,
} from 'aws-cdk-lib';
import {
  AllowedMethods,
  CachePolicy,
  Distribution,
  HeadersFrameOption,
  HeadersReferrerPolicy,
  HttpVersion,
  OriginProtocolPolicy,
  OriginRequestPolicy,
  OriginSslPolicy,
  PriceClass,
  ResponseHeadersPolicy,
  ViewerProtocolPolicy,
} from 'aws-cdk-lib/aws-cloudfront';
import { HttpOrigin, S3BucketOrigin } from 'aws-cdk-lib/aws-cloudfront-origins';
import { Bucket, BucketEncryption, type CfnBucket, type IBucket } from 'aws-cdk-lib/aws-s3';
import { BucketDeployment, CacheControl, Source } from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';
import {
  type DashboardConfig,
  dashboardAssetDirs,
  dashboardContentSecurityPolicy,
} from '../../functions/api/dashboard-site.js';
import { API_BASE_PATH } from '../../functions/api/router.js';
import { acknowledge } from '../nag.js';
import { PRIVATE_BUCKET } from './private-bucket.js';

export const DASHBOARD_CONFIG_KEY = 'config.json';
/** Files in the asset directories the page never loads (type-checking config, uPlot's other builds). */
const NOT_SERVED = ['tsconfig.json', '*.d.ts', '*.cjs.js', '*.iife.js', '*.iife.min.js'];
/** How often the live views poll in AWS: every open dashboard costs API calls. */
export const DASHBOARD_POLL_MS = 5000;

export interface DashboardSiteProps {
  /** The HTTP API's domain (no scheme, no path). */
  readonly apiOriginDomain: string;
  readonly accessLogs: IBucket;
  readonly removalPolicy: RemovalPolicy;
  /** Origins the pages fetch from besides their own: Cognito's hosted domain (the sign-in's token exchange). */
  readonly connectSources: readonly string[];
  /** The web ACL limiting requests per client (edge-firewall.ts); may resolve to nothing in some regions. */
  readonly webAclId?: string;
}

export class DashboardSite extends Construct {
  readonly bucket: Bucket;
  readonly distribution: Distribution;

  constructor(scope: Construct, id: string, props: DashboardSiteProps) {
    super(scope, id);
    this.bucket = new Bucket(this, 'Bucket', {
      // Public static files; SSE-KMS would need a key policy naming this distribution, which needs this bucket.
      encryption: BucketEncryption.S3_MANAGED,
      ...PRIVATE_BUCKET,
      serverAccessLogsBucket: props.accessLogs,
      serverAccessLogsPrefix: 'dashboard/',
      removalPolicy: props.removalPolicy,
    });

    // The managed SECURITY_HEADERS policy's headers, framing denied outright, and the pages' own CSP.
    const pageHeaders = new ResponseHeadersPolicy(this, 'PageHeaders', {
      comment: 'Retrostride dashboard: security headers and its Content-Security-Policy',
      securityHeadersBehavior: {
        contentSecurityPolicy: {
          contentSecurityPolicy: dashboardContentSecurityPolicy({ connectSources: props.connectSources }),
          override: true,
        },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: HeadersFrameOption.DENY, override: true },
        referrerPolicy: {
          referrerPolicy: HeadersReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN,
          override: true,
        },
        strictTransportSecurity: { accessControlMaxAge: Duration.days(365), override: true },
        xssProtection: { protection: true, modeBlock: true, override: true },
      },
    });
    this.distribution = new Distribution(this, 'Distribution', {
      comment: 'Retrostride dashboard',
      defaultRootObject: 'index.html',
      defaultBehavior: {
        origin: S3BucketOrigin.withOriginAccessControl(this.bucket),
        viewerProtocolPolicy: ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        cachePolicy: CachePolicy.CACHING_OPTIMIZED,
        responseHeadersPolicy: pageHeaders,
      },
      additionalBehaviors: {
        [`${API_BASE_PATH}/*`]: {
          origin: new HttpOrigin(props.apiOriginDomain, {
            protocolPolicy: OriginProtocolPolicy.HTTPS_ONLY,
            originSslProtocols: [OriginSslPolicy.TLS_V1_2],
          }),
          viewerProtocolPolicy: ViewerProtocolPolicy.HTTPS_ONLY,
          allowedMethods: AllowedMethods.ALLOW_ALL,
          // Live data is never cached; with caching off, this policy also forwards the Authorization header.
          cachePolicy: CachePolicy.CACHING_DISABLED,
          originRequestPolicy: OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
          responseHeadersPolicy: ResponseHeadersPolicy.SECURITY_HEADERS,
        },
      },
      httpVersion: HttpVersion.HTTP2_AND_3,
      priceClass: PriceClass.PRICE_CLASS_100,
      ...(props.webAclId !== undefined && { webAclId: props.webAclId }),
    });
    acknowledge(
      this.distribution,
      'Operators sign in from wherever their gyms are; the API behind it requires a Cognito token and checks each gym.',
      'AwsSolutions-CFR1',
    );
    acknowledge(
      this.distribution,
      'CloudFront standard logs need an ACL-enabled bucket; API requests are logged by the API stage and bucket reads by S3 server access logs.',
      'AwsSolutions-CFR3',
    );
    acknowledge(
      this.distribution,
      'The default *.cloudfront.net certificate allows TLSv1 viewers; a custom domain with its own certificate (and TLSv1.2_2021) is a deployment choice.',
      'AwsSolutions-CFR4',
    );
  }

  get url(): string {
    return `https://${this.distribution.distributionDomainName}`;
  }

  /** Uploads the dashboard with its generated config, and invalidates the cached copies. */
  deploy(config: DashboardConfig): void {
    const dirs = dashboardAssetDirs();
    const nested = dirs.filter((dir) => dir.urlPrefix !== '/').map((dir) => `${dir.urlPrefix.slice(1)}*`);
    for (const [index, dir] of dirs.entries()) {
      const atRoot = dir.urlPrefix === '/';
      new BucketDeployment(this, `Files${index}`, {
        destinationBucket: this.bucket,
        destinationKeyPrefix: dir.urlPrefix.slice(1),
        sources: [
          Source.asset(dir.dir, { exclude: NOT_SERVED }),
          ...(atRoot ? [Source.jsonData(DASHBOARD_CONFIG_KEY, config)] : []),
        ],
        // The root deployment must not delete what the nested ones upload.
        ...(atRoot && { exclude: nested }),
        // Module files keep their names between releases: browsers revalidate them.
        cacheControl: [CacheControl.noCache()],
        distribution: this.distribution,
        distributionPaths: [`${dir.urlPrefix}*`],
        retainOnDelete: false,
        memoryLimit: 256,
      });
    }
    this.acknowledgeDeploymentHelper();
  }

  /** BucketDeployment's handler is CDK's (a singleton at stack level): it runs only while deploying. */
  private acknowledgeDeploymentHelper(): void {
    const stack = Stack.of(this);
    const rendered = (value: string, pseudo: string) => (Token.isUnresolved(value) ? `<${pseudo}>` : value);
    const qualifier = String(
      this.node.tryGetContext(BOOTSTRAP_QUALIFIER_CONTEXT) ?? DefaultStackSynthesizer.DEFAULT_QUALIFIER,
    );
    const assetBucket = `cdk-${qualifier}-assets-${rendered(stack.account, 'AWS::AccountId')}-${rendered(stack.region, 'AWS::Region')}`;
    const siteBucketId = stack.getLogicalId(this.bucket.node.defaultChild as CfnBucket);
    const helpers = stack.node.children.filter((child) =>
      child.node.id.startsWith('Custom::CDKBucketDeployment'),
    );
    for (const helper of helpers) {
      acknowledge(
        helper,
        "CDK's BucketDeployment handler copies the dashboard from the CDK asset bucket into the site bucket and invalidates CloudFront, only during a deployment; its runtime, logging role and S3 actions are CDK's, scoped to those two buckets (CloudFront invalidations have no resource-level permissions).",
        'AwsSolutions-L1',
        'Serverless-LambdaLatestVersion',
        'Serverless-LambdaTracing',
        'Serverless-LambdaDLQ',
        'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        ...['s3:GetBucket*', 's3:GetObject*', 's3:List*', 's3:Abort*', 's3:DeleteObject*'].map(
          (action) => `AwsSolutions-IAM5[Action::${action}]`,
        ),
        'AwsSolutions-IAM5[Resource::*]',
        `AwsSolutions-IAM5[Resource::<${siteBucketId}.Arn>/*]`,
        `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::${assetBucket}/*]`,
      );
    }
  }

  /** The config the dashboard reads: the API on this origin, Cognito's hosted UI for sign-in. */
  static config(authDomainUrl: string, clientId: string, scopes: string[]): DashboardConfig {
    return {
      apiBaseUrl: API_BASE_PATH,
      pollMs: DASHBOARD_POLL_MS,
      auth: { mode: 'cognito', domain: authDomainUrl, clientId, scopes },
    };
  }
}
