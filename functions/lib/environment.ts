/**
 * A function's configuration: one zod schema of its environment variables, parsed once, failing with one error
 * that names every variable missing or wrong. An empty variable counts as unset, as `NAME=` in a shell means.
 *
 * zod/mini, not zod: the notifier's bundle has no other zod, and mini tree-shakes to about 14 KB where the full
 * API costs 85 KB (measured with infra/bundling.ts's settings); beside the full API, mini adds about 1 KB.
 */
import * as z from 'zod/mini';

/** The environment is missing a variable or has a wrong one; the message names each. */
export class EnvironmentError extends Error {
  override readonly name = 'EnvironmentError';
}

type Variable = z.ZodMiniType<string | undefined>;
export type EnvSchema = z.ZodMiniObject<Record<string, Variable>>;
export type EnvOf<S extends EnvSchema> = z.infer<S>;

/** A variable that must be set. */
export const required = () => z.string();
/** A secret that must be set, at least `bytes` bytes long (UTF-8). */
export const secret = (bytes: number) =>
  z
    .string()
    .check(z.refine((value) => Buffer.byteLength(value) >= bytes, `must have at least ${bytes} bytes`));
/** A variable that may be unset; when set, it is checked as `variable`. */
export const optional = (variable: z.ZodMiniType<string> = required()) => z.optional(variable);

export const envSchema = <S extends Record<string, Variable>>(shape: S) => z.object(shape);

/** Every function reads the tables under `${TABLE_PREFIX}-*` (shared/src/tables.ts). */
export const TABLE_ENV = { TABLE_PREFIX: required() };

/** Where alert transitions are delivered (alert-transports.ts): any of them, or several. */
export const ALERT_ENV = {
  ALERT_TOPIC_ARN: optional(),
  ALERT_WEBHOOK_URL: optional(),
  ALERT_OUTBOX_FILE: optional(),
  ALERT_WEBHOOK_TIMEOUT_MS: optional(),
};

/** A secret read when first needed (secretSource). */
export type SecretSource = () => Promise<string>;

/**
 * The string Secrets Manager holds under `arn`. Its client is imported here, on first use: only the unsubscribe
 * route and the weekly email need it, so no cold start pays for loading it.
 */
export async function readSecretsManagerSecret(arn: string): Promise<string> {
  const { GetSecretValueCommand, SecretsManagerClient } = await import('@aws-sdk/client-secrets-manager');
  const { SecretString } = await new SecretsManagerClient({}).send(
    new GetSecretValueCommand({ SecretId: arn }),
  );
  if (SecretString === undefined) throw new EnvironmentError(`the secret ${arn} holds no string`);
  return SecretString;
}

/**
 * The secret `name`: locally its value (`env.value`, from `$name`), in AWS the Secrets Manager secret whose ARN
 * is `env.arn` (from `$name_ARN`), read on first use and kept for the container's life; a failed read is tried
 * again next time. A value in a function's environment is readable by anyone allowed
 * lambda:GetFunctionConfiguration, so infra/ passes the ARN only (docs/architecture.md section 8). Null when
 * neither is set; both at once is a mistake.
 */
export function secretSource(
  name: string,
  env: { value?: string | undefined; arn?: string | undefined },
  minBytes: number,
  read: (arn: string) => Promise<string> = readSecretsManagerSecret,
): SecretSource | null {
  const { value, arn } = env;
  if (value !== undefined && arn !== undefined)
    throw new EnvironmentError(`set ${name} and ${name}_ARN: one of them, not both`);
  if (value !== undefined) return () => Promise.resolve(value);
  if (arn === undefined) return null;
  let pending: Promise<string> | undefined;
  const load = async () => {
    const secret = await read(arn);
    // The same check the plain variable gets (`secret()` above), so both ways fail alike.
    if (Buffer.byteLength(secret) < minBytes)
      throw new EnvironmentError(`${name}_ARN: the secret must have at least ${minBytes} bytes`);
    return secret;
  };
  return () => {
    pending ??= load().catch((error: unknown) => {
      pending = undefined;
      throw error;
    });
    return pending;
  };
}

/** The variables of `schema` read from `env`, checked; throws an EnvironmentError naming each problem. */
export function parseEnv<S extends EnvSchema>(
  schema: S,
  env: Record<string, string | undefined> = process.env,
): EnvOf<S> {
  const values: Record<string, string> = {};
  for (const name of Object.keys(schema.shape)) {
    const value = env[name];
    if (value !== undefined && value !== '') values[name] = value;
  }
  const result = z.safeParse(schema, values);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const name = String(issue.path[0]);
    return values[name] === undefined ? `${name} is not set` : `${name} ${issue.message}`;
  });
  throw new EnvironmentError(problems.join('; '));
}

/**
 * Dependencies built from the environment on first use and kept for the container's life (clients and their
 * connections are reused across invocations). A failed build is not kept: the next invocation tries again.
 */
export function depsFromEnv<S extends EnvSchema, D>(
  schema: S,
  build: (env: EnvOf<S>) => D,
  env: Record<string, string | undefined> = process.env,
): () => D {
  let built: { deps: D } | undefined;
  return () => {
    built ??= { deps: build(parseEnv(schema, env)) };
    return built.deps;
  };
}
