/**
 * Building the stack in tests: cdk.json's context (as `cdk synth` reads it) plus overrides, with function
 * bundling skipped and CloudFormation validation off (both are slow; test/infra/synth-cli.test.ts runs the
 * one real, validated synth). Each test file builds its template once.
 */
import { readFileSync } from 'node:fs';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { createApp } from '../../infra/app.js';
import type { RetrostrideStack } from '../../infra/stack.js';

export function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync('cdk.json', 'utf8')) as { context: Record<string, unknown> };
  return cdkJson.context;
}

export interface Built {
  app: App;
  stack: RetrostrideStack;
  template: Template;
}

/** The app as cdk.json configures it, `-c`-style overrides applied; synthesized without bundling. */
export function buildStack(overrides: Record<string, unknown> = {}): Built {
  const app = new App({
    context: {
      ...cdkJsonContext(),
      ...overrides,
      // No stack needs its assets bundled: NodejsFunction then skips esbuild.
      'aws:cdk:bundling-stacks': [],
    },
    builtinCloudFormationValidation: false,
  });
  const { stack } = createApp(app);
  return { app, stack, template: Template.fromStack(stack) };
}

type Json = unknown;

/** The logical id of a construct's CloudFormation resource. */
export function logicalId(stack: RetrostrideStack, construct: { node: { defaultChild?: unknown } }): string {
  const resource = construct.node.defaultChild;
  if (!resource) throw new Error('construct has no default child');
  return stack.getLogicalId(resource as Parameters<typeof stack.getLogicalId>[0]);
}

/** Every IAM statement attached to a role (its inline policies and the AWS::IAM::Policy resources naming it). */
export function roleStatements(template: Template, roleLogicalId: string): Array<Record<string, Json>> {
  const statements: Array<Record<string, Json>> = [];
  const role = template.toJSON().Resources[roleLogicalId] as {
    Properties: { Policies?: Array<{ PolicyDocument: { Statement: Array<Record<string, Json>> } }> };
  };
  for (const policy of role.Properties.Policies ?? []) statements.push(...policy.PolicyDocument.Statement);
  const policies = template.findResources('AWS::IAM::Policy');
  for (const policy of Object.values(policies)) {
    const props = policy.Properties as {
      Roles: Array<{ Ref: string }>;
      PolicyDocument: { Statement: Array<Record<string, Json>> };
    };
    if (props.Roles.some((ref) => ref.Ref === roleLogicalId))
      statements.push(...props.PolicyDocument.Statement);
  }
  return statements;
}

export const asArray = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);
