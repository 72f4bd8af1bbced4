/**
 * cdk-nag (v3, CDK's validation plugins): the AwsSolutions and Serverless packs run on every synth, and a
 * finding fails it. Each accepted finding is acknowledged where it arises, with its reason.
 */
import { type App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';

export const nagPacks = (): [AwsSolutionsChecks, ServerlessChecks] => [
  new AwsSolutionsChecks(),
  new ServerlessChecks(),
];

export function addNagChecks(app: App): void {
  Validations.of(app).addPlugins(...nagPacks());
}

/** Accepts findings on `scope` and everything under it, for one reason. */
export function acknowledge(scope: IConstruct, reason: string, ...ids: string[]): void {
  Validations.of(scope).acknowledge(...ids.map((id) => ({ id, reason })));
}
