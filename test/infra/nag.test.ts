/**
 * cdk-nag, AwsSolutions and Serverless packs: no unacknowledged finding (errors and warnings alike), every
 * acknowledgement with a reason, and the check itself able to fail.
 */
import { Stack, Validations } from 'aws-cdk-lib';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { nagPacks } from '../../infra/nag.js';
import { buildStack } from './support.js';

const { app } = buildStack();

const findings = (scope: IConstruct) =>
  nagPacks().flatMap((pack) =>
    pack
      .validateScope(scope)
      .violations.flatMap((violation) =>
        violation.violatingResources.map((resource) => `${violation.ruleName} at ${resource.constructPath}`),
      ),
  );

function acknowledgements(scope: IConstruct): Array<{ path: string; id: string; reason: string }> {
  return scope.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) =>
        Object.entries(entry.data as Record<string, string>).map(([id, reason]) => ({
          path: construct.node.path,
          id,
          reason,
        })),
      ),
  );
}

describe('cdk-nag', () => {
  it('finds nothing unacknowledged in the stack', () => {
    expect(findings(app)).toEqual([]);
  });

  it('flags what it should: a queue without a DLQ or TLS policy in the same app is reported', () => {
    const { app: other, stack } = buildStack();
    new Queue(stack as Stack, 'Careless');
    const reported = findings(other);
    expect(reported).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^AwsSolutions-SQS3 at .*Careless/),
        expect.stringMatching(/^AwsSolutions-SQS4 at .*Careless/),
      ]),
    );
  });

  it('every acknowledgement gives its reason, in a sentence', () => {
    const all = acknowledgements(app);
    expect(all.length).toBeGreaterThan(10);
    for (const { path, id, reason } of all) {
      expect({ path, id, reason: reason.length >= 40 }).toEqual({ path, id, reason: true });
    }
  });

  it('no acknowledgement covers a whole stack or a whole rule family', () => {
    for (const { path, id } of acknowledgements(app)) {
      expect(path.split('/').length, `${id} on ${path}`).toBeGreaterThan(1);
      expect(id).not.toMatch(/IAM5$/);
    }
  });
});
