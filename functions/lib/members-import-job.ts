/**
 * Imports members from CSV text into the members table: the one path that `retrostride members import` and the
 * local stack's simulated members both take. Bad rows are reported by line; good rows are upserted.
 */
import { parseMemberCsv, type RowProblem } from '../../shared/src/members/member-import.js';
import { mapWithConcurrency } from './concurrency.js';
import type { MembersRepo } from './members-repo.js';

const ROWS_IN_FLIGHT = 8;

export interface MemberImportSummary {
  imported: number;
  created: number;
  consentSet: number;
  /** Rows granting consent that the member or an operator had withdrawn: left withdrawn. */
  consentKept: string[];
  problems: RowProblem[];
}

/** Throws MemberFileError when the file as a whole cannot be read (header, CSV syntax). */
export async function importMembersCsv(
  repo: MembersRepo,
  text: string,
  options: { now: number; source: string },
): Promise<MemberImportSummary> {
  const parsed = parseMemberCsv(text, new Date(options.now).getUTCFullYear());
  const outcomes = await mapWithConcurrency(parsed.members, ROWS_IN_FLIGHT, async ({ member }) => ({
    userToken: member.userToken,
    outcome: await repo.importMember(member, options.now, options.source),
  }));
  return {
    imported: outcomes.length,
    created: outcomes.filter(({ outcome }) => outcome.created).length,
    consentSet: outcomes.filter(({ outcome }) => outcome.consent === 'set').length,
    consentKept: outcomes
      .filter(({ outcome }) => outcome.consent === 'kept')
      .map(({ userToken }) => userToken),
    problems: parsed.problems,
  };
}
