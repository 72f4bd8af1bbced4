/**
 * Limits per client at the edge: an AWS WAF web ACL on the dashboard's CloudFront distribution (which also
 * carries `/api/*`) with rate-based rules per client IP, so one client cannot use up the API stage's throttle,
 * which all tenants share (docs/architecture.md section 8). The public routes (no token needed) get a lower
 * limit of their own.
 *
 * A CLOUDFRONT-scoped web ACL can only be created in us-east-1. The stack may be deployed anywhere, so the
 * web ACL carries a condition: it exists, and the distribution uses it, when the stack is in us-east-1; in
 * another region the stage throttles (operator-api.ts) are the only limits, and a web ACL made in us-east-1
 * by other means can be attached to the distribution by hand.
 */
import { Aws, CfnCondition, Fn } from 'aws-cdk-lib';
import { CfnWebACL } from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { API_BASE_PATH } from '../../functions/api/router.js';
import type { RouteInfo } from '../../functions/api/router.js';

/**
 * Requests per client IP in 5 minutes. An open dashboard polls about 3 requests every 5 s (180 in 5 minutes),
 * so 3,000 leaves room for a dozen dashboards behind one gym's address. A member unsubscribes once; mail
 * providers post one-click unsubscribes from shared addresses, hence 100 rather than a handful.
 */
export const EDGE_RATE_LIMITS = { site: 3000, publicRoutes: 100, windowSeconds: 300 } as const;

export interface EdgeFirewallProps {
  /** The routes that need no token (the route table's public ones): the stricter limit covers their paths. */
  readonly publicRoutes: readonly RouteInfo[];
}

export class EdgeFirewall extends Construct {
  readonly webAcl: CfnWebACL;
  /** True where the web ACL can exist (us-east-1). */
  readonly condition: CfnCondition;

  constructor(scope: Construct, id: string, props: EdgeFirewallProps) {
    super(scope, id);
    this.condition = new CfnCondition(this, 'InUsEast1', {
      expression: Fn.conditionEquals(Aws.REGION, 'us-east-1'),
    });
    const visibility = (metricName: string): CfnWebACL.VisibilityConfigProperty => ({
      cloudWatchMetricsEnabled: true,
      sampledRequestsEnabled: true,
      metricName,
    });
    // 429 tells a well-behaved client to back off, where WAF's default 403 would read as "not allowed".
    const tooMany: CfnWebACL.RuleActionProperty = { block: { customResponse: { responseCode: 429 } } };
    const paths = [...new Set(props.publicRoutes.map((route) => `${API_BASE_PATH}${route.path}`))];
    const pathIs = (path: string): CfnWebACL.StatementProperty => ({
      byteMatchStatement: {
        fieldToMatch: { uriPath: {} },
        positionalConstraint: 'EXACTLY',
        searchString: path,
        textTransformations: [{ priority: 0, type: 'NONE' }],
      },
    });
    const [onlyPath] = paths;
    const publicScope: CfnWebACL.StatementProperty | undefined =
      paths.length > 1
        ? { orStatement: { statements: paths.map(pathIs) } }
        : onlyPath === undefined
          ? undefined
          : pathIs(onlyPath);
    this.webAcl = new CfnWebACL(this, 'WebAcl', {
      scope: 'CLOUDFRONT',
      description: 'Retrostride: requests per client IP, public API routes stricter',
      defaultAction: { allow: {} },
      visibilityConfig: visibility('retrostride-edge'),
      rules: [
        ...(publicScope
          ? [
              {
                name: 'public-routes-per-ip',
                priority: 0,
                action: tooMany,
                statement: {
                  rateBasedStatement: {
                    limit: EDGE_RATE_LIMITS.publicRoutes,
                    evaluationWindowSec: EDGE_RATE_LIMITS.windowSeconds,
                    aggregateKeyType: 'IP',
                    scopeDownStatement: publicScope,
                  },
                },
                visibilityConfig: visibility('retrostride-edge-public-routes'),
              },
            ]
          : []),
        {
          name: 'site-per-ip',
          priority: 1,
          action: tooMany,
          statement: {
            rateBasedStatement: {
              limit: EDGE_RATE_LIMITS.site,
              evaluationWindowSec: EDGE_RATE_LIMITS.windowSeconds,
              aggregateKeyType: 'IP',
            },
          },
          visibilityConfig: visibility('retrostride-edge-site'),
        },
      ],
    });
    this.webAcl.cfnOptions.condition = this.condition;
  }

  /** The web ACL's ARN where it exists, nothing elsewhere: for the distribution's webAclId. */
  get distributionWebAclId(): string {
    return Fn.conditionIf(this.condition.logicalId, this.webAcl.attrArn, Aws.NO_VALUE).toString();
  }
}
