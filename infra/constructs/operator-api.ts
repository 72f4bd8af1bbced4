/**
 * The operators' API (functions/api): API Gateway HTTP API, payload 2.0, every route under `/api` behind a
 * Cognito JWT authorizer except those the handler's route table marks public (the OpenAPI document, the
 * one-click unsubscribe). The research export routes go to functions/export. The dashboard reaches the API
 * through its own CloudFront distribution (same origin, no CORS); handlers check roles and gyms again.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import {
  type CfnStage,
  HttpApi,
  HttpMethod,
  HttpStage,
  type IHttpRouteAuthorizer,
  LogGroupLogDestination,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpUserPoolAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { IUserPool, IUserPoolClient } from 'aws-cdk-lib/aws-cognito';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct, type IConstruct } from 'constructs';
import { API_BASE_PATH, type RouteInfo } from '../../functions/api/router.js';
import { ROUTES } from '../../functions/api/routes.js';
import { acknowledge } from '../nag.js';
import type { DataTables, TableAccess } from './data-tables.js';
import { ServiceFunction } from './service-function.js';

/**
 * Reads for the fleet, sessions, alerts and utilisation views; writes an alert's acknowledgement and a
 * member's consent (by an operator, or the member's unsubscribe link), nothing else.
 */
export const API_ACCESS = {
  fleet: ['GetItem', 'Query'],
  // A session's timeline (the table) and a gym's sessions (the byGym index).
  sessions: ['GetItem', 'Query', 'Query@byGym'],
  // A gym's current alerts and thresholds (the table), its history and a treadmill's a page at a time (the
  // byGym and byTreadmill indexes).
  alerts: ['GetItem', 'Query', 'Query@byGym', 'Query@byTreadmill', 'PutItem'],
  rollups: ['GetItem', 'Query'],
  members: ['GetItem', 'UpdateItem'],
} as const satisfies TableAccess;

/** Requests per second across all callers, and the burst above it, before API Gateway answers 429. */
export const API_THROTTLE = { rateLimit: 50, burstLimit: 100 };
/**
 * Each public route's own share (no token needed to call it): flooding one cannot use up the API-wide limit
 * the signed-in tenants share. Per client limits are the edge's (edge-firewall.ts).
 */
export const PUBLIC_ROUTE_THROTTLE = { rateLimit: 5, burstLimit: 10 };

export interface OperatorApiProps {
  readonly tables: DataTables;
  /** Beyond TABLE_PREFIX: where the unsubscribe secret is (its ARN). */
  readonly environment: Record<string, string>;
  readonly logKey: IKey;
  readonly logRetention: RetentionDays;
}

export class OperatorApi extends Construct {
  readonly function: ServiceFunction;
  readonly httpApi: HttpApi;
  readonly stage: HttpStage;
  private authorizer: IHttpRouteAuthorizer | undefined;
  private readonly publicRouteSettings: Record<
    string,
    { ThrottlingRateLimit: number; ThrottlingBurstLimit: number }
  > = {};

  constructor(scope: Construct, id: string, props: OperatorApiProps) {
    super(scope, id);
    this.function = new ServiceFunction(this, 'Api', {
      name: 'api',
      description: "Operators' and researchers' API behind the Cognito authorizer",
      environment: { TABLE_PREFIX: props.tables.prefix, ...props.environment },
      memorySize: 512,
      timeout: Duration.seconds(10),
      logRetention: props.logRetention,
      logKey: props.logKey,
      invocation: { kind: 'synchronous', by: 'API Gateway' },
    });
    props.tables.grant(this.function.role, API_ACCESS);

    this.httpApi = new HttpApi(this, 'Http', {
      description: 'Retrostride operator API',
      createDefaultStage: false,
    });
    const accessLogs = new LogGroup(this, 'AccessLogs', {
      retention: props.logRetention,
      encryptionKey: props.logKey,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.stage = new HttpStage(this, 'DefaultStage', {
      httpApi: this.httpApi,
      autoDeploy: true,
      throttle: API_THROTTLE,
      accessLogSettings: {
        destination: new LogGroupLogDestination(accessLogs),
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            time: '$context.requestTimeEpoch',
            ip: '$context.identity.sourceIp',
            route: '$context.routeKey',
            path: '$context.path',
            status: '$context.status',
            latencyMs: '$context.responseLatency',
            integrationError: '$context.integrationErrorMessage',
            authorizerError: '$context.authorizer.error',
            sub: '$context.authorizer.claims.sub',
          }),
        ),
      },
    });
    acknowledge(
      this.stage,
      "X-Ray tracing is not used: the functions behind the API don't instrument with it; access logs and Lambda metrics trace a request instead.",
      'Serverless-APIGWXrayEnabled',
    );
  }

  /**
   * Adds the API function's routes: every route of functions/api behind the user pool's tokens for `client`
   * (the dashboard's), except those the route table itself marks public.
   */
  authorizeWith(userPool: IUserPool, client: IUserPoolClient): void {
    this.authorizer = new HttpUserPoolAuthorizer('Cognito', userPool, {
      userPoolClients: [client],
      identitySource: ['$request.header.Authorization'],
    });
    const integration = new HttpLambdaIntegration('Handler', this.function.fn);
    this.httpApi.addRoutes({
      path: `${API_BASE_PATH}/{proxy+}`,
      methods: [HttpMethod.GET, HttpMethod.POST],
      integration,
      authorizer: this.authorizer,
    });
    this.addRoutes(
      integration,
      ROUTES.filter((route) => route.access === 'public'),
    );
  }

  /** Routes served by a function of their own (more specific than the API's catch-all, so they win). */
  route(id: string, fn: IFunction, routes: readonly RouteInfo[]): void {
    this.addRoutes(new HttpLambdaIntegration(id, fn), routes);
  }

  private addRoutes(integration: HttpLambdaIntegration, routes: readonly RouteInfo[]): void {
    if (!this.authorizer) throw new Error('authorizeWith() first: routes need the authorizer');
    for (const info of routes) {
      const isPublic = info.access === 'public';
      const added = this.httpApi.addRoutes({
        path: `${API_BASE_PATH}${info.path}`,
        methods: [info.method as HttpMethod],
        integration,
        ...(isPublic ? {} : { authorizer: this.authorizer }),
      });
      if (isPublic) {
        this.throttlePublicRoute(`${info.method} ${API_BASE_PATH}${info.path}`, added);
        acknowledge(
          added[0] ?? this,
          `${info.method} ${info.path} is public by design (${info.summary}); the handler checks what it needs itself.`,
          'AwsSolutions-APIG4',
          'AwsSolutions-COG4',
        );
      }
    }
  }

  /**
   * A stage route setting for the route (RouteSettings is plain JSON to CloudFormation's schema, hence the
   * property names as CloudFormation spells them); the stage must be updated after the route exists.
   */
  private throttlePublicRoute(routeKey: string, routes: readonly IConstruct[]): void {
    this.publicRouteSettings[routeKey] = {
      ThrottlingRateLimit: PUBLIC_ROUTE_THROTTLE.rateLimit,
      ThrottlingBurstLimit: PUBLIC_ROUTE_THROTTLE.burstLimit,
    };
    (this.stage.node.defaultChild as CfnStage).routeSettings = { ...this.publicRouteSettings };
    for (const route of routes) this.stage.node.addDependency(route);
  }

  /** Where CloudFront reaches the API (the default stage, no path prefix). */
  get originDomain(): string {
    return `${this.httpApi.apiId}.execute-api.${this.httpApi.stack.region}.${this.httpApi.stack.urlSuffix}`;
  }
}
