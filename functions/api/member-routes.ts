/**
 * Members' consent to the weekly progress email, and the local email outbox.
 *
 * Who may change consent: an operator of the member's home gym (the member asked at the desk), with their
 * username recorded; or the member, through the signed link in every progress email (RFC 8058 one-click: a
 * POST without login, the token proving which member, and able only to withdraw). Nobody reads an email
 * address through the API.
 */
import * as z from 'zod';
import { userTokenSchema } from '../../shared/src/members/member-import.js';
import { gymIdSchema } from '../../shared/src/telemetry/events.js';
import { issueReasons } from '../../shared/src/telemetry/validate.js';
import type { FileOutbox } from '../lib/email-outbox.js';
import type { MembersRepo } from '../lib/members-repo.js';
import type { UnsubscribeTokensSource } from '../lib/unsubscribe-tokens.js';
import { ApiError, defineRoute, notFound, type Route, type RouteInfo } from './router.js';
import { apiSchemas, noParams, noQuery } from './schema-registry.js';

export interface MemberApiDeps {
  members: MembersRepo;
  /** Null when neither UNSUBSCRIBE_SECRET nor its ARN is configured: the unsubscribe route answers 503. */
  unsubscribeTokens: UnsubscribeTokensSource | null;
  /** The local outbox (EMAIL_OUTBOX_DIR); null in AWS, where SES sends. */
  emailOutbox: FileOutbox | null;
  now: () => number;
}

function named<S extends z.ZodType>(id: string, schema: S): S {
  apiSchemas.add(schema, { id });
  return schema;
}

const epochMs = z.number().int().describe('epoch milliseconds');

export const memberParams = z.object({ gymId: gymIdSchema, userToken: userTokenSchema });

export const consentResponse = named(
  'MemberConsent',
  z.object({
    userToken: z.string(),
    gymId: z.string().nullable(),
    consent: z.boolean().nullable().describe('null: never asked'),
    source: z.enum(['import', 'operator', 'member']).nullable().describe('who made the last change'),
    changedTs: epochMs.nullable(),
    changedBy: z.string().nullable().describe('operator username, import file, or unsubscribe-link'),
  }),
);

export const unsubscribeQuery = z.object({
  token: z.string().min(1).max(2048).describe('the signed token from the progress email'),
});
export const unsubscribeResponse = named('Unsubscribed', z.object({ status: z.literal('unsubscribed') }));

const outboxEntrySchema = z.object({
  id: z.string(),
  week: z.string(),
  userToken: z.string(),
  gymId: z.string().nullable(),
  to: z.string(),
  subject: z.string(),
  date: epochMs,
});
export const outboxResponse = named('EmailOutbox', z.object({ emails: z.array(outboxEntrySchema) }));
export const outboxParams = z.object({ id: z.string().min(1).max(200) });
export const outboxMessageResponse = named(
  'EmailOutboxMessage',
  outboxEntrySchema.extend({ html: z.string(), text: z.string() }),
);

const OPERATOR = ['operator'] as const;

/** The member if their home gym is `gymId`; any other member is "not found" for that gym's operators. */
async function memberOfGym(deps: MemberApiDeps, gymId: string, userToken: string) {
  const member = await deps.members.consent(userToken);
  if (!member || member.gymId !== gymId) throw notFound(`no member ${userToken} in ${gymId}`);
  return member;
}

function consentRoute(action: 'grant' | 'withdraw'): Route<MemberApiDeps> {
  return defineRoute({
    method: 'POST',
    path: `/gyms/{gymId}/members/{userToken}/consent/${action}`,
    summary:
      action === 'grant'
        ? 'Record that a member agreed to the weekly progress email (repeating it is harmless)'
        : 'Withdraw a member’s consent to the weekly progress email (repeating it is harmless)',
    tag: 'members',
    access: OPERATOR,
    params: memberParams,
    query: noQuery,
    response: consentResponse,
    handle: async ({ params: { gymId, userToken }, caller, deps }) => {
      await memberOfGym(deps, gymId, userToken);
      await deps.members.setConsent(userToken, action === 'grant', 'operator', caller.username, deps.now());
      return memberOfGym(deps, gymId, userToken);
    },
  });
}

/** A route without login whose query the handler receives parsed (the router's public routes take none). */
function definePublicQueryRoute<D, Q extends z.ZodObject, R extends z.ZodType>(
  spec: Omit<RouteInfo, 'access' | 'params' | 'query' | 'response'> & {
    query: Q;
    response: R;
    handle(context: { query: z.output<Q>; deps: D }): Promise<z.input<R>>;
  },
): Route<D> {
  return {
    ...spec,
    access: 'public',
    params: noParams,
    async invoke(request, _caller, deps) {
      const parsed = spec.query.safeParse(request.query);
      if (!parsed.success)
        throw new ApiError(400, 'bad_request', 'invalid query', issueReasons(parsed.error));
      return spec.handle({ query: parsed.data, deps });
    },
  };
}

function requireOutbox(deps: MemberApiDeps): FileOutbox {
  if (!deps.emailOutbox) throw notFound('no local outbox here: progress emails are sent through SES');
  return deps.emailOutbox;
}

export const MEMBER_ROUTES: readonly Route<MemberApiDeps>[] = [
  defineRoute({
    method: 'GET',
    path: '/gyms/{gymId}/members/{userToken}/consent',
    summary: 'A member’s consent to the weekly progress email, and who changed it last',
    tag: 'members',
    access: OPERATOR,
    params: memberParams,
    query: noQuery,
    response: consentResponse,
    handle: async ({ params: { gymId, userToken }, deps }) => memberOfGym(deps, gymId, userToken),
  }),
  consentRoute('grant'),
  consentRoute('withdraw'),
  definePublicQueryRoute<MemberApiDeps, typeof unsubscribeQuery, typeof unsubscribeResponse>({
    method: 'POST',
    path: '/unsubscribe',
    summary:
      'One-click unsubscribe (RFC 8058) from the link in a progress email: no login, the signed token names the member',
    tag: 'members',
    query: unsubscribeQuery,
    response: unsubscribeResponse,
    handle: async ({ query: { token }, deps }) => {
      if (!deps.unsubscribeTokens)
        throw new ApiError(503, 'not_configured', 'unsubscribing is not configured here');
      const claim = (await deps.unsubscribeTokens.tokens()).verify(token);
      if (!claim) throw new ApiError(403, 'forbidden', 'this unsubscribe link is not valid');
      // An unknown member (deleted since) has nothing left to withdraw: the answer is the same.
      await deps.members.setConsent(claim.userToken, false, 'member', 'unsubscribe-link', deps.now());
      return { status: 'unsubscribed' as const };
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/outbox/emails',
    summary: 'Progress emails in the local outbox for members of the caller’s gyms, newest first',
    tag: 'members',
    access: OPERATOR,
    params: noParams,
    query: noQuery,
    response: outboxResponse,
    handle: async ({ caller, deps }) => ({
      emails: (await requireOutbox(deps).list()).filter(
        (email) => email.gymId !== null && caller.gyms.includes(email.gymId),
      ),
    }),
  }),
  defineRoute({
    method: 'GET',
    path: '/outbox/emails/{id}',
    summary: 'One progress email of the local outbox: its HTML and plain-text parts',
    tag: 'members',
    access: OPERATOR,
    params: outboxParams,
    query: noQuery,
    response: outboxMessageResponse,
    handle: async ({ params: { id }, caller, deps }) => {
      const message = await requireOutbox(deps).get(id);
      if (!message || message.gymId === null || !caller.gyms.includes(message.gymId))
        throw notFound(`no email ${id} in the outbox`);
      return message;
    },
  }),
];
