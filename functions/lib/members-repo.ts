/**
 * The members table (pk MEMBER#{userToken}, sk PROFILE), the only place an email address lives.
 *
 * - Profile reads for finalizing sessions and for the heart-rate alert request only the profile attributes: the
 *   email never leaves the table there. Profiles are cached per container for a minute: every batch of an open
 *   session asks for its member's age.
 * - Imports upsert a member's contact and profile; consent changes record who made them (an import, an operator,
 *   the member through the unsubscribe link), and an import never grants consent over the member's or an
 *   operator's choice (importMaySetConsent).
 * - The progress email lists the members who consented, with their addresses.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { BalanceBaseline } from '../../shared/src/metrics/balance.js';
import type { MemberProfile } from '../../shared/src/metrics/session.js';
import {
  type ConsentSource,
  importMaySetConsent,
  type MemberRecord,
} from '../../shared/src/members/member-import.js';
import { scanAll } from './dynamo-paging.js';

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

export interface MemberConsent {
  userToken: string;
  gymId: string | null;
  consent: boolean | null;
  source: ConsentSource | null;
  changedTs: number | null;
  changedBy: string | null;
}

export interface EmailRecipient {
  userToken: string;
  email: string;
  gymId: string | null;
}

export interface ImportOutcome {
  created: boolean;
  /** `kept`: the file grants consent the member or an operator withdrew, so it stays withdrawn. */
  consent: 'set' | 'unchanged' | 'kept';
}

export type ConsentChange = 'changed' | 'unchanged' | 'not_found';

const PROFILE_FIELDS = ['weightKg', 'birthYear', 'sex', 'gymId'] as const;

const isConditionFailure = (error: unknown): boolean =>
  error instanceof ConditionalCheckFailedException ||
  (error instanceof Error && error.name === 'ConditionalCheckFailedException');

const tokenOf = (pk: unknown): string => String(pk).replace(/^MEMBER#/, '');

function consentOf(item: Record<string, unknown>): MemberConsent {
  const { pk, gymId, consent, consentSource, consentChangedTs, consentChangedBy } = item;
  return {
    userToken: tokenOf(pk),
    gymId: typeof gymId === 'string' ? gymId : null,
    consent: typeof consent === 'boolean' ? consent : null,
    source:
      consentSource === 'import' || consentSource === 'operator' || consentSource === 'member'
        ? consentSource
        : null,
    changedTs: typeof consentChangedTs === 'number' ? consentChangedTs : null,
    changedBy: typeof consentChangedBy === 'string' ? consentChangedBy : null,
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

  /**
   * Creates or updates a member from an import row: email and profile as the row has them (an empty value
   * removes the stored one), consent as importMaySetConsent allows. Running the same file again changes nothing
   * but the profile's timestamp.
   */
  async importMember(member: MemberRecord, now: number, source: string): Promise<ImportOutcome> {
    const set = ['#email = :email', '#profileUpdatedTs = :now'];
    const remove: string[] = [];
    const names: Record<string, string> = { '#email': 'email', '#profileUpdatedTs': 'profileUpdatedTs' };
    const values: Record<string, unknown> = { ':email': member.email, ':now': now };
    for (const field of PROFILE_FIELDS) {
      names[`#${field}`] = field;
      if (member[field] === undefined) remove.push(`#${field}`);
      else {
        set.push(`#${field} = :${field}`);
        values[`:${field}`] = member[field];
      }
    }
    const { Attributes: before } = await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: memberProfileKey(member.userToken),
        UpdateExpression: `SET ${set.join(', ')}${remove.length > 0 ? ` REMOVE ${remove.join(', ')}` : ''}`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ReturnValues: 'ALL_OLD',
      }),
    );
    this.cache.delete(member.userToken);
    const stored = before ? consentOf(before) : undefined;
    const current =
      stored?.consent !== null && stored?.consent !== undefined
        ? { consent: stored.consent, source: stored.source ?? 'import' }
        : undefined;
    const outcome = { created: before === undefined };
    if (!importMaySetConsent(current, member.consent))
      return { ...outcome, consent: current?.consent === member.consent ? 'unchanged' : 'kept' };
    const change = await this.setConsent(member.userToken, member.consent, 'import', source, now, {
      expectedChangedTs: stored?.changedTs ?? null,
    });
    return { ...outcome, consent: change === 'changed' ? 'set' : 'unchanged' };
  }

  /** Consent and home gym of a member, without the email; undefined for an unknown member. */
  async consent(userToken: string): Promise<MemberConsent | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({
        TableName: this.tableName,
        Key: memberProfileKey(userToken),
        ConsistentRead: true,
        ProjectionExpression: 'pk, #gymId, #consent, #consentSource, #consentChangedTs, #consentChangedBy',
        ExpressionAttributeNames: {
          '#gymId': 'gymId',
          '#consent': 'consent',
          '#consentSource': 'consentSource',
          '#consentChangedTs': 'consentChangedTs',
          '#consentChangedBy': 'consentChangedBy',
        },
      }),
    );
    return Item ? consentOf(Item) : undefined;
  }

  /**
   * Sets a known member's consent, recording who changed it and when; `unchanged` when it already was so.
   * `expectedChangedTs` makes the write conditional on no other change since it was read (an import's check).
   */
  async setConsent(
    userToken: string,
    consent: boolean,
    source: ConsentSource,
    changedBy: string,
    now: number,
    options: { expectedChangedTs?: number | null } = {},
  ): Promise<ConsentChange> {
    const expected = options.expectedChangedTs;
    const unchangedSinceRead =
      expected === undefined
        ? ''
        : expected === null
          ? ' AND attribute_not_exists(#consentChangedTs)'
          : ' AND #consentChangedTs = :expected';
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: memberProfileKey(userToken),
          UpdateExpression:
            'SET #consent = :consent, #consentSource = :source, #consentChangedTs = :now, #consentChangedBy = :by',
          ConditionExpression: `attribute_exists(pk) AND (attribute_not_exists(#consent) OR #consent <> :consent)${unchangedSinceRead}`,
          ExpressionAttributeNames: {
            '#consent': 'consent',
            '#consentSource': 'consentSource',
            '#consentChangedTs': 'consentChangedTs',
            '#consentChangedBy': 'consentChangedBy',
          },
          ExpressionAttributeValues: {
            ':consent': consent,
            ':source': source,
            ':now': now,
            ':by': changedBy,
            ...(typeof expected === 'number' && { ':expected': expected }),
          },
        }),
      );
      return 'changed';
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      return (await this.consent(userToken)) ? 'unchanged' : 'not_found';
    }
  }

  /** Every member who consented to progress emails and has an address (a scan: a weekly job's read). */
  async listEmailRecipients(): Promise<EmailRecipient[]> {
    const items = await scanAll(this.doc, {
      TableName: this.tableName,
      FilterExpression: 'sk = :profile AND #consent = :yes AND attribute_exists(#email)',
      ProjectionExpression: 'pk, #email, #gymId',
      ExpressionAttributeNames: { '#consent': 'consent', '#email': 'email', '#gymId': 'gymId' },
      ExpressionAttributeValues: { ':profile': 'PROFILE', ':yes': true },
    });
    const recipients = items.map((item): EmailRecipient => ({
      userToken: tokenOf(item.pk),
      email: String(item.email),
      gymId: typeof item.gymId === 'string' ? item.gymId : null,
    }));
    return recipients.sort((a, b) => (a.userToken < b.userToken ? -1 : a.userToken > b.userToken ? 1 : 0));
  }
}
