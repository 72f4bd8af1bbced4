/**
 * Reads a member's profile (members table, pk MEMBER#{userToken}, sk PROFILE) for finalizing sessions and for
 * the heart-rate alert. Only the profile attributes are requested: the email never leaves the table here.
 *
 * Profiles are cached per container for a minute: every batch of an open session asks for its member's age.
 */
import { type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import type { BalanceBaseline } from '../../shared/src/metrics/balance.js';
import type { MemberProfile } from '../../shared/src/metrics/session.js';

const DEFAULT_TTL_MS = 60_000;
const MAX_CACHED = 10_000;

export const memberProfileKey = (userToken: string) => ({ pk: `MEMBER#${userToken}`, sk: 'PROFILE' });

/** Keeps what is plausible; anything else counts as missing (finalizeSession then uses flagged defaults). */
export function profileOf(item: Record<string, unknown> | undefined): MemberProfile {
  if (!item) return {};
  const { weightKg, birthYear, sex, balanceBaselines } = item;
  return {
    ...(typeof weightKg === 'number' && weightKg >= 20 && weightKg <= 400 && { weightKg }),
    ...(typeof birthYear === 'number' && Number.isInteger(birthYear) && birthYear > 1900 && { birthYear }),
    ...((sex === 'male' || sex === 'female') && { sex }),
    ...(Array.isArray(balanceBaselines) && { balanceBaselines: balanceBaselines as BalanceBaseline[] }),
  };
}

export class MembersRepo {
  private readonly cache = new Map<string, { profile: MemberProfile; expiresAt: number }>();

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly options: { ttlMs?: number; now?: () => number } = {},
  ) {}

  /** The member's profile; `{}` when the member is unknown. */
  async profile(userToken: string): Promise<MemberProfile> {
    const now = (this.options.now ?? Date.now)();
    const cached = this.cache.get(userToken);
    if (cached && cached.expiresAt > now) return cached.profile;
    const { Item } = await this.doc.send(
      new GetCommand({
        TableName: this.tableName,
        Key: memberProfileKey(userToken),
        ProjectionExpression: '#weightKg, #birthYear, #sex, #balanceBaselines',
        ExpressionAttributeNames: {
          '#weightKg': 'weightKg',
          '#birthYear': 'birthYear',
          '#sex': 'sex',
          '#balanceBaselines': 'balanceBaselines',
        },
      }),
    );
    const profile = profileOf(Item);
    if (this.cache.size >= MAX_CACHED) this.cache.clear();
    this.cache.set(userToken, { profile, expiresAt: now + (this.options.ttlMs ?? DEFAULT_TTL_MS) });
    return profile;
  }
}
