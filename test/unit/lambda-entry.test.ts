import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  depsFromEnv,
  EnvironmentError,
  envSchema,
  optional,
  parseEnv,
  required,
  secret,
  TABLE_ENV,
} from '../../functions/lib/environment.js';
import { lambdaHandler } from '../../functions/lib/lambda-entry.js';
import { lambdaContext } from '../../scripts/local/lambda-shapes.js';

const schema = envSchema({
  ...TABLE_ENV,
  EMAIL_FROM: required(),
  SECRET: optional(secret(32)),
  OUTBOX: optional(),
});

describe('parseEnv', () => {
  it('reads the schema’s variables only, an empty one as unset', () => {
    const env = parseEnv(schema, { TABLE_PREFIX: 'p', EMAIL_FROM: 'a@b', OUTBOX: '', OTHER: 'x' });
    expect(env).toEqual({ TABLE_PREFIX: 'p', EMAIL_FROM: 'a@b' });
  });

  it('names every variable missing or wrong in one error', () => {
    const parse = () => parseEnv(schema, { EMAIL_FROM: '', SECRET: 'short' });
    expect(parse).toThrow(EnvironmentError);
    expect(parse).toThrow(
      'TABLE_PREFIX is not set; EMAIL_FROM is not set; SECRET must have at least 32 bytes',
    );
  });
});

describe('depsFromEnv', () => {
  it('builds once and keeps the result; a failed build is tried again', () => {
    const env: Record<string, string | undefined> = { EMAIL_FROM: 'a@b' };
    const build = vi.fn((parsed: { TABLE_PREFIX: string }) => ({ prefix: parsed.TABLE_PREFIX }));
    const deps = depsFromEnv(schema, build, env);

    expect(deps).toThrow('TABLE_PREFIX is not set');
    env.TABLE_PREFIX = 'p';
    expect(deps()).toBe(deps());
    expect(deps()).toEqual({ prefix: 'p' });
    expect(build).toHaveBeenCalledTimes(1);
  });
});

describe('lambdaHandler', () => {
  let printed: string[] = [];

  beforeEach(() => {
    vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
    vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'INFO');
    printed = [];
    for (const stream of [process.stdout, process.stderr]) {
      vi.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
        printed.push(...String(chunk).split('\n').filter(Boolean));
        return true;
      });
    }
  });

  afterEach(() => {
    vi.restoreAllMocks();
    vi.unstubAllEnvs();
  });

  const lines = () => printed.map((line) => JSON.parse(line) as Record<string, unknown>);

  it('logs with the Lambda context and flushes the metrics under the service, after a failure too', async () => {
    const handler = lambdaHandler(
      'probe',
      () => ({ answer: 42 }),
      async (event: { fail: boolean }, tools) => {
        tools.metrics.addMetric('Probed', MetricUnit.Count, 1);
        tools.logger.info('probing', { answer: tools.deps.answer });
        if (event.fail) throw new Error('failed on purpose');
        return tools.context.functionName;
      },
    );
    const context = lambdaContext('probe', 'us-east-1', '000000000000');

    await expect(handler({ fail: false }, context)).resolves.toBe(context.functionName);
    await expect(handler({ fail: true }, context)).rejects.toThrow('failed on purpose');

    const logged = lines().filter((line) => line.message === 'probing');
    expect(logged).toHaveLength(2);
    expect(logged[0]).toMatchObject({ service: 'probe', answer: 42, function_name: context.functionName });
    const emf = lines().filter((line) => '_aws' in line);
    expect(emf).toHaveLength(2);
    expect(emf[0]).toMatchObject({ service: 'probe', Probed: 1 });
  });
});
