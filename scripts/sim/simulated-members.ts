/**
 * The simulated gyms' members (m_a_001 ...), put into the members table through the same import as
 * `retrostride members import`: deterministic for a seed, most with consent to the progress email, some with
 * parts of the profile missing as in real sign-up data. Addresses are on example.org (RFC 2606: never mail).
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { toCsv } from '../../shared/src/csv.js';
import { MEMBER_COLUMNS } from '../../shared/src/members/member-import.js';
import { importMembersCsv, type MemberImportSummary } from '../../functions/lib/members-import-job.js';
import { MembersRepo } from '../../functions/lib/members-repo.js';
import { createRandom } from '../lib/random.js';
import { DEFAULT_SIMULATOR_OPTIONS, gymIdOf, memberTokenOf, type SimulatorOptions } from './gym-simulator.js';

const CONSENT_SHARE = 0.85;

/** The members CSV of the simulated gyms. */
export function simulatedMembersCsv(options: Partial<SimulatorOptions> = {}): string {
  const { seed, gyms, membersPerGym } = { ...DEFAULT_SIMULATOR_OPTIONS, ...options };
  const random = createRandom(seed * 7919 + 17);
  const rows = [];
  for (let g = 1; g <= gyms; g++) {
    const gymId = gymIdOf(g);
    for (let n = 1; n <= membersPerGym; n++) {
      const userToken = memberTokenOf(gymId, n);
      const sex = random.next() < 0.5 ? 'female' : 'male';
      rows.push([
        userToken,
        `${userToken.replaceAll('_', '.')}@example.org`,
        random.next() < CONSENT_SHARE ? 'yes' : 'no',
        random.next() < 0.9 ? random.int(sex === 'female' ? 50 : 60, sex === 'female' ? 95 : 115) : null,
        random.next() < 0.95 ? random.int(1948, 2006) : null,
        random.next() < 0.95 ? sex : null,
        gymId,
      ]);
    }
  }
  return toCsv(MEMBER_COLUMNS, rows);
}

export async function seedSimulatedMembers(
  doc: DynamoDBDocumentClient,
  membersTable: string,
  options: Partial<SimulatorOptions>,
  now: number,
): Promise<MemberImportSummary> {
  return importMembersCsv(new MembersRepo(doc, membersTable), simulatedMembersCsv(options), {
    now,
    source: 'simulator',
  });
}
