/**
 * The unsubscribe secret in AWS: read from Secrets Manager by ARN on first use, once per container (the client
 * mocked with aws-sdk-client-mock); locally the value itself. Never both, never too short.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { apiDepsFor } from '../../functions/api/api-deps.js';
import { EnvironmentError, secretSource } from '../../functions/lib/environment.js';
import { progressEmailDeps } from '../../functions/lib/progress-emails.js';
import { UnsubscribeTokens } from '../../functions/lib/unsubscribe-tokens.js';
import { dynamoDocumentClient, LOCAL_CREDENTIALS } from '../../shared/src/aws/clients.js';

const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:UnsubscribeSecret-AbCdEf';
const SECRET = 'a-generated-secret-of-64-characters-0123456789abcdefghijklmnopqrs';
const CLAIM = { userToken: 'm_a_001', week: '2026-W47' };

const secretsManager = mockClient(SecretsManagerClient);
afterEach(() => secretsManager.reset());

const reads = () => secretsManager.commandCalls(GetSecretValueCommand).map((call) => call.args[0].input);

describe('secrets from Secrets Manager', () => {
  it('reads the secret by its ARN on first use only, and keeps it for the container', async () => {
    secretsManager.on(GetSecretValueCommand, { SecretId: ARN }).resolves({ SecretString: SECRET });
    const source = secretSource('UNSUBSCRIBE_SECRET', { arn: ARN }, 32);
    expect(reads()).toEqual([]);
    expect(await Promise.all([source?.(), source?.()])).toEqual([SECRET, SECRET]);
    expect(await source?.()).toBe(SECRET);
    expect(reads()).toEqual([{ SecretId: ARN }]);
  });

  it('tries again after a failed read instead of keeping the failure', async () => {
    secretsManager
      .on(GetSecretValueCommand)
      .rejectsOnce(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }))
      .resolves({ SecretString: SECRET });
    const source = secretSource('UNSUBSCRIBE_SECRET', { arn: ARN }, 32);
    await expect(source?.()).rejects.toThrow('Rate exceeded');
    expect(await source?.()).toBe(SECRET);
    expect(reads()).toHaveLength(2);
  });

  it('refuses a secret that is too short or not a string, naming the variable', async () => {
    secretsManager.on(GetSecretValueCommand).resolvesOnce({ SecretString: 'short' }).resolves({});
    const source = secretSource('UNSUBSCRIBE_SECRET', { arn: ARN }, 32);
    await expect(source?.()).rejects.toThrow(/UNSUBSCRIBE_SECRET_ARN: .*at least 32 bytes/);
    await expect(source?.()).rejects.toThrow(EnvironmentError);
  });

  it('takes the value itself locally (no Secrets Manager), and refuses both or neither being ambiguous', async () => {
    expect(await secretSource('UNSUBSCRIBE_SECRET', { value: SECRET }, 32)?.()).toBe(SECRET);
    expect(reads()).toEqual([]);
    expect(secretSource('UNSUBSCRIBE_SECRET', {}, 32)).toBeNull();
    expect(() => secretSource('UNSUBSCRIBE_SECRET', { value: SECRET, arn: ARN }, 32)).toThrow(
      /UNSUBSCRIBE_SECRET and UNSUBSCRIBE_SECRET_ARN/,
    );
  });
});

describe('the functions that sign and check unsubscribe links', () => {
  const doc = dynamoDocumentClient({
    endpoint: 'http://127.0.0.1:9',
    region: 'us-east-1',
    credentials: LOCAL_CREDENTIALS,
  });

  it('API: the unsubscribe route checks tokens with the secret from Secrets Manager, read when first needed', async () => {
    secretsManager.on(GetSecretValueCommand, { SecretId: ARN }).resolves({ SecretString: SECRET });
    const deps = apiDepsFor(doc, 'unit', Date.now, {}, { UNSUBSCRIBE_SECRET_ARN: ARN });
    expect(reads()).toEqual([]);
    const tokens = await deps.unsubscribeTokens?.tokens();
    expect(tokens?.verify(new UnsubscribeTokens(SECRET).sign(CLAIM))).toEqual(CLAIM);
    expect(tokens?.verify(new UnsubscribeTokens(`${SECRET}-other`).sign(CLAIM))).toBeNull();
    expect(reads()).toEqual([{ SecretId: ARN }]);
  });

  it('progress email: signs links with the same secret, read from Secrets Manager', async () => {
    secretsManager.on(GetSecretValueCommand, { SecretId: ARN }).resolves({ SecretString: SECRET });
    const source = secretSource('UNSUBSCRIBE_SECRET', { arn: ARN }, 32);
    if (!source) throw new Error('no secret source');
    const deps = progressEmailDeps(doc, 'unit', {
      from: 'progress@example.com',
      publicBaseUrl: 'https://dashboard.example',
      unsubscribeSecret: source,
    });
    const token = (await deps.tokens.tokens()).sign(CLAIM);
    expect(new UnsubscribeTokens(SECRET).verify(token)).toEqual(CLAIM);
  });
});
