/**
 * The weekly progress emails: for each member who consented and walked at least once in the week, build the
 * report from their own week rollups, render it, and either hand it to a preview (no marker, nothing sent) or
 * send it once (EmailMarkersRepo). The scheduled Lambda and `retrostride emails` both run this.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { buildProgressReport } from '../../shared/src/email/progress-report.js';
import { renderProgressEmail } from '../../shared/src/email/render.js';
import { shiftWeek } from '../../shared/src/iso-week.js';
import { tableNames } from '../../shared/src/tables.js';
import { mapWithConcurrency } from './concurrency.js';
import { buildProgressMime, progressEmailLinks } from './email-delivery.js';
import { EmailMarkersRepo } from './email-markers-repo.js';
import type { EmailTransport, ProgressMessage } from './email-message.js';
import { type EmailRecipient, MembersRepo } from './members-repo.js';
import { RollupsRepo } from './rollups-repo.js';
import type { SecretSource } from './environment.js';
import {
  type UnsubscribeTokens,
  type UnsubscribeTokensSource,
  unsubscribeTokensFrom,
} from './unsubscribe-tokens.js';

/** Weeks of history read for personal bests (about two years). */
export const HISTORY_WEEKS = 104;
const MEMBERS_IN_FLIGHT = 4;

export interface ProgressEmailDeps {
  members: MembersRepo;
  rollups: RollupsRepo;
  markers: EmailMarkersRepo;
  /** Read when a run starts (in AWS the secret comes from Secrets Manager). */
  tokens: UnsubscribeTokensSource;
  /** Where the dashboard and /api are served, for the unsubscribe links. */
  publicBaseUrl: string;
  from: string;
  now: () => number;
}

export interface ProgressEmailConfig {
  from: string;
  publicBaseUrl: string;
  /** The value (the CLI, locally), or where to read it (the Lambda: Secrets Manager, once per container). */
  unsubscribeSecret: string | SecretSource;
}

/** The repos over the tables under `tablePrefix`, and the sender's configuration. */
export function progressEmailDeps(
  doc: DynamoDBDocumentClient,
  tablePrefix: string,
  config: ProgressEmailConfig,
  now: () => number = Date.now,
): ProgressEmailDeps {
  const tables = tableNames(tablePrefix);
  return {
    members: new MembersRepo(doc, tables.members),
    rollups: new RollupsRepo(doc, tables.rollups),
    markers: new EmailMarkersRepo(doc, tables.rollups),
    tokens: unsubscribeTokensFrom(config.unsubscribeSecret),
    publicBaseUrl: config.publicBaseUrl,
    from: config.from,
    now,
  };
}

export type ProgressEmailMode =
  | { send: true; transport: EmailTransport }
  | { send: false; preview: (message: ProgressMessage, raw: Buffer) => Promise<void> };

export interface ProgressEmailRun {
  week: string;
  /** Members with consent and an address. */
  consenting: number;
  noSessions: number;
  sent: string[];
  previewed: string[];
  /** Already had this week's email (a marker exists): nothing sent again. */
  alreadySent: string[];
  failed: Array<{ userToken: string; reason: string }>;
}

export async function runProgressEmails(
  deps: ProgressEmailDeps,
  week: string,
  mode: ProgressEmailMode,
  options: { onlyMembers?: readonly string[] } = {},
): Promise<ProgressEmailRun> {
  const only = options.onlyMembers && new Set(options.onlyMembers);
  const recipients = (await deps.members.listEmailRecipients()).filter((r) => !only || only.has(r.userToken));
  const run: ProgressEmailRun = {
    week,
    consenting: recipients.length,
    noSessions: 0,
    sent: [],
    previewed: [],
    alreadySent: [],
    failed: [],
  };
  // Before any member: no secret (Secrets Manager unreachable) fails the run, which its schedule retries.
  const tokens = await deps.tokens.tokens();
  await mapWithConcurrency(recipients, MEMBERS_IN_FLIGHT, async (recipient) => {
    try {
      const message = await messageFor(deps, tokens, recipient, week);
      if (!message) {
        run.noSessions++;
        return;
      }
      const raw = await buildProgressMime(message);
      if (!mode.send) {
        await mode.preview(message, raw);
        run.previewed.push(recipient.userToken);
        return;
      }
      if (!(await deps.markers.claim(recipient.userToken, week, deps.now()))) {
        run.alreadySent.push(recipient.userToken);
        return;
      }
      let messageId: string;
      try {
        messageId = await mode.transport.send(message, raw);
      } catch (error) {
        await deps.markers.release(recipient.userToken, week);
        throw error;
      }
      await deps.markers.markSent(recipient.userToken, week, messageId, deps.now());
      run.sent.push(recipient.userToken);
    } catch (error) {
      run.failed.push({ userToken: recipient.userToken, reason: (error as Error).message });
    }
  });
  for (const list of [run.sent, run.previewed, run.alreadySent]) list.sort();
  return run;
}

async function messageFor(
  deps: ProgressEmailDeps,
  tokens: UnsubscribeTokens,
  recipient: EmailRecipient,
  week: string,
): Promise<ProgressMessage | null> {
  const history = await deps.rollups.listMemberWeeks(
    recipient.userToken,
    shiftWeek(week, -HISTORY_WEEKS),
    week,
  );
  const report = buildProgressReport(week, history);
  if (!report) return null;
  const links = progressEmailLinks(deps.publicBaseUrl, tokens.sign({ userToken: recipient.userToken, week }));
  return {
    userToken: recipient.userToken,
    week,
    gymId: recipient.gymId,
    from: deps.from,
    to: recipient.email,
    email: renderProgressEmail(report, links),
    links,
    date: deps.now(),
  };
}
