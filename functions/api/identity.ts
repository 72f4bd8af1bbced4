/**
 * The caller, from the JWT claims API Gateway's authorizer passes on (a Cognito ID token in AWS; the local
 * server's dev login fills in the same claims). docs/architecture.md section 8: every call is scoped to the gyms in the
 * caller's claims, checked here as well as by the authorizer.
 *
 * HTTP API's JWT authorizer flattens list claims to text, `cognito:groups` arriving as "[operator researcher]";
 * a list, or a comma-separated text, is read the same way.
 */
import * as z from 'zod';

export const roleSchema = z.enum(['operator', 'researcher']);

export type Role = z.infer<typeof roleSchema>;

export interface Caller {
  sub: string;
  username: string;
  roles: Role[];
  gyms: string[];
}

export type Claims = Record<string, string | number | boolean | string[]>;

/** "[a b]", "a,b", "a b" or ["a", "b"] -> ["a", "b"]. */
export function claimList(value: Claims[string] | undefined): string[] {
  if (value === undefined) return [];
  const items = Array.isArray(value)
    ? value
    : String(value)
        .replace(/^\[|\]$/g, '')
        .split(/[\s,]+/);
  return items.map((item) => item.trim()).filter((item) => item.length > 0);
}

const roles = new Set<string>(roleSchema.options);
const isRole = (group: string): group is Role => roles.has(group);

/** The caller, or null when there are no usable claims (no login, or a token without a subject). */
export function callerOf(claims: Claims | undefined): Caller | null {
  const sub = claims?.sub;
  if (claims === undefined || typeof sub !== 'string' || sub.length === 0) return null;
  const username = claims['cognito:username'] ?? claims.username;
  return {
    sub,
    username: typeof username === 'string' && username.length > 0 ? username : sub,
    roles: [...new Set(claimList(claims['cognito:groups']).filter(isRole))],
    gyms: [...new Set(claimList(claims['custom:gyms']))],
  };
}
