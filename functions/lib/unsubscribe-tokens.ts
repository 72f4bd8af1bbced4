/**
 * Signed unsubscribe tokens for the one-click links of the progress email (RFC 8058): whoever holds the link
 * may withdraw that member's consent, and nothing else. `base64url(payload).base64url(HMAC-SHA256)`, with the
 * member's pseudonymous token and the week of the email in the payload; no expiry, since a link in an old
 * email must keep working.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { SecretSource } from './environment.js';

const PURPOSE = 'unsubscribe';
export const MIN_SECRET_BYTES = 32;

export interface UnsubscribeClaim {
  userToken: string;
  week: string;
}

/**
 * Where a function gets its tokens: at hand (a secret it was given), or once its secret has been read from
 * Secrets Manager (AWS), which only a request that needs them waits for.
 */
export interface UnsubscribeTokensSource {
  tokens(): Promise<UnsubscribeTokens>;
}

export class UnsubscribeTokens implements UnsubscribeTokensSource {
  readonly #secret: Buffer;

  constructor(secret: string | Uint8Array) {
    this.#secret = Buffer.from(secret);
    if (this.#secret.length < MIN_SECRET_BYTES)
      throw new Error(`the unsubscribe secret must have at least ${MIN_SECRET_BYTES} bytes`);
  }

  sign(claim: UnsubscribeClaim): string {
    const body = Buffer.from(JSON.stringify({ p: PURPOSE, m: claim.userToken, w: claim.week })).toString(
      'base64url',
    );
    return `${body}.${this.#mac(body)}`;
  }

  /** The claim of a well-signed token; null for anything else. */
  verify(token: string): UnsubscribeClaim | null {
    const [body, mac, extra] = token.split('.');
    if (!body || !mac || extra !== undefined) return null;
    const expected = Buffer.from(this.#mac(body));
    const given = Buffer.from(mac);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
    try {
      const payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Record<string, unknown>;
      const { p, m, w } = payload;
      return p === PURPOSE && typeof m === 'string' && typeof w === 'string'
        ? { userToken: m, week: w }
        : null;
    } catch {
      return null;
    }
  }

  tokens(): Promise<UnsubscribeTokens> {
    return Promise.resolve(this);
  }

  #mac(body: string): string {
    return createHmac('sha256', this.#secret).update(body).digest('base64url');
  }
}

/** Tokens whose secret is read on first use (secretSource: once per container; a failure is tried again). */
export function unsubscribeTokensFrom(secret: string | SecretSource): UnsubscribeTokensSource {
  if (typeof secret === 'string') return new UnsubscribeTokens(secret);
  let made: { from: string; tokens: UnsubscribeTokens } | undefined;
  return {
    async tokens() {
      const value = await secret();
      if (made?.from !== value) made = { from: value, tokens: new UnsubscribeTokens(value) };
      return made.tokens;
    },
  };
}
