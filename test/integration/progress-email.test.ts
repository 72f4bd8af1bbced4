import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type ParsedMail, simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiDepsFor } from '../../functions/api/api-deps.js';
import { createApiHandler } from '../../functions/api/handler.js';
import { FileOutbox } from '../../functions/lib/email-outbox.js';
import { MembersRepo } from '../../functions/lib/members-repo.js';
import { RollupsRepo } from '../../functions/lib/rollups-repo.js';
import { UnsubscribeTokens } from '../../functions/lib/unsubscribe-tokens.js';
import { type EmbeddedAws, startEmbeddedAws } from '../../scripts/local/kit.js';
import { call, claimsOf } from '../support/api.js';
import { walkedSession } from '../support/rollup-fixtures.js';

const exec = promisify(execFile);
const SECRET = 'test-unsubscribe-secret-of-at-least-32-bytes';
const BASE_URL = 'https://retrostride.example';
/** Monday of 2026-W44; the email is for 2026-W47 (16-22 November). */
const W44 = Date.UTC(2026, 9, 26, 7);
const WEEK_MS = 7 * 86_400_000;

const MEMBERS_CSV = [
  'userToken,email,consent,weightKg,birthYear,sex,gymId',
  'm_a_001,ann@example.org,yes,64,1978,female,gym-a',
  'm_a_002,bo@example.org,no,80,1985,male,gym-a',
  'm_a_003,cy@example.org,yes,,,,gym-a',
  'm_b_001,dee@example.org,yes,70,1990,male,gym-b',
  'm_b_002,broken-address,yes,70,1990,male,gym-b',
].join('\n');

describe('weekly progress emails', () => {
  let kit: EmbeddedAws;
  let dir: string;
  let outbox: string;
  let env: NodeJS.ProcessEnv;

  async function cli(...args: string[]) {
    try {
      const { stdout, stderr } = await exec('node_modules/.bin/tsx', ['scripts/cli.ts', ...args], { env });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const failed = error as { code: number; stdout: string; stderr: string };
      return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
    }
  }
  const connection = () => ['--endpoint', kit.dynamo.endpoint, '--table-prefix', kit.tablePrefix];
  const emails = (...args: string[]) =>
    cli('emails', '--week', '2026-W47', '--outbox', outbox, '--base-url', BASE_URL, ...args, ...connection());
  const parsedOutbox = async (): Promise<Map<string, ParsedMail>> => {
    const names = (await readdir(outbox)).filter((name) => name.endsWith('.eml')).sort();
    const mails = new Map<string, ParsedMail>();
    for (const name of names) mails.set(name, await simpleParser(await readFile(join(outbox, name))));
    return mails;
  };

  beforeAll(async () => {
    kit = await startEmbeddedAws();
    dir = await mkdtemp(join(tmpdir(), 'retrostride-email-'));
    outbox = join(dir, 'outbox');
    env = {
      ...process.env,
      UNSUBSCRIBE_SECRET: SECRET,
      EMAIL_FROM: 'Retrostride <progress@retrostride.example>',
    };
    const rollups = new RollupsRepo(kit.dynamo.doc, kit.tables.rollups);
    const walk = async (
      userToken: string,
      gymId: string,
      week: number,
      forwardS: number,
      backwardS: number,
    ) =>
      rollups.addSession(
        walkedSession({
          gymId,
          userToken,
          startTs: W44 + week * WEEK_MS + forwardS * 1000,
          forwardS,
          backwardS,
        }),
        { ageBand: '40-49', sex: 'female' },
      );
    for (const week of [0, 1, 3]) await walk('m_a_001', 'gym-a', week, 300 + week * 60, 120 + week * 30);
    await walk('m_a_002', 'gym-a', 3, 300, 60); // walked, but never agreed to emails
    await walk('m_a_003', 'gym-a', 2, 300, 60); // agreed, but no session in W47
    await walk('m_b_001', 'gym-b', 3, 240, 0);
  });

  afterAll(async () => {
    await kit?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('imports members, keeping good rows and reporting bad ones by line', async () => {
    const file = join(dir, 'members.csv');
    await writeFile(file, MEMBERS_CSV);
    const result = await cli('members', 'import', file, ...connection());
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe('line 6: email: not an email address');
    expect(result.stdout).toContain('imported 4 members (4 new), consent changed for 4, 1 rows rejected');
    const again = await cli('members', 'import', file, ...connection());
    expect(again.stdout).toContain('imported 4 members (0 new), consent changed for 0');
  });

  it('previews without sending, then sends one email to each member with consent and a session', async () => {
    const preview = await emails('--preview-dir', join(dir, 'preview'));
    expect(preview.code).toBe(0);
    expect(preview.stdout).toContain('previewed 2');
    expect((await readdir(join(dir, 'preview'))).sort()).toEqual(
      ['m_a_001.eml', 'm_a_001.html', 'm_a_001.txt', 'm_b_001.eml', 'm_b_001.html', 'm_b_001.txt'].sort(),
    );
    await expect(stat(outbox)).rejects.toThrow(/ENOENT/);

    const sent = await emails('--send');
    expect(sent.code).toBe(0);
    expect(sent.stdout).toContain('2026-W47: 3 members with consent, 1 without a session that week; sent 2');
    expect([...(await parsedOutbox()).keys()]).toEqual([
      'progress-2026-W47-m_a_001.eml',
      'progress-2026-W47-m_b_001.eml',
    ]);
  });

  it('builds a MIME message with both parts, the RFC 8058 headers and a signed https unsubscribe link', async () => {
    const mail = (await parsedOutbox()).get('progress-2026-W47-m_a_001.eml')!;
    expect(mail.to).toMatchObject({ text: 'ann@example.org' });
    expect(mail.subject).toBe('Your treadmill week, 16–22 November 2026: 1 session, 11 min');
    expect(mail.text).toContain('ACTIVE MINUTES, LAST FOUR WEEKS');
    expect(mail.html).toContain('<table role="img"');
    const raw = (name: string) =>
      mail.headerLines.find((h) => h.key === name)?.line.replace(/\r?\n\s+/g, ' ');
    expect(raw('list-unsubscribe-post')).toBe('List-Unsubscribe-Post: List-Unsubscribe=One-Click');
    const oneClick = /^List-Unsubscribe: <(https:\/\/[^>]+)>$/.exec(raw('list-unsubscribe') ?? '')?.[1];
    expect(oneClick).toMatch(/^https:\/\/retrostride\.example\/api\/unsubscribe\?token=/);
    const token = new URL(oneClick!).searchParams.get('token')!;
    expect(new UnsubscribeTokens(SECRET).verify(token)).toEqual({ userToken: 'm_a_001', week: '2026-W47' });
    const links = [...(mail.html as string).matchAll(/href="([^"]+)"/g)].map((m) =>
      m[1]!.replaceAll('&amp;', '&'),
    );
    expect(links).toEqual([`${BASE_URL}/unsubscribe.html?token=${encodeURIComponent(token)}`]);
    expect(mail.text).toContain(`Unsubscribe: ${BASE_URL}/unsubscribe.html?token=`);
    expect(mail.messageId).toMatch(/^<progress-2026-W47-[0-9a-f]{16}@retrostride\.example>$/);
  });

  it('sends nothing twice when run again', async () => {
    const before = await stat(join(outbox, 'progress-2026-W47-m_a_001.eml'));
    const again = await emails('--send');
    expect(again.stdout).toContain('sent 0, already sent 2, failed 0');
    expect((await stat(join(outbox, 'progress-2026-W47-m_a_001.eml'))).mtimeMs).toBe(before.mtimeMs);
  });

  describe('consent through the API', () => {
    const handler = () =>
      createApiHandler(() =>
        apiDepsFor(kit.dynamo.doc, kit.tablePrefix, Date.now, {
          unsubscribeTokens: new UnsubscribeTokens(SECRET),
          emailOutbox: new FileOutbox(outbox),
        }),
      );
    const members = () => new MembersRepo(kit.dynamo.doc, kit.tables.members);

    it('lets operators of the member’s gym read and change consent, nobody else', async () => {
      const api = handler();
      const path = '/api/gyms/gym-a/members/m_a_003/consent';
      expect((await call(api, 'GET', path, claimsOf('operator-a'))).body).toMatchObject({
        userToken: 'm_a_003',
        consent: true,
        source: 'import',
      });
      expect((await call(api, 'GET', path, claimsOf('operator-b'))).status).toBe(403);
      expect(
        (await call(api, 'GET', '/api/gyms/gym-b/members/m_a_003/consent', claimsOf('operator-b'))).status,
      ).toBe(404);
      expect((await call(api, 'GET', path, claimsOf('researcher'))).status).toBe(403);
      const withdrawn = await call(api, 'POST', `${path}/withdraw`, claimsOf('operator-a'));
      expect(withdrawn.body).toMatchObject({ consent: false, source: 'operator', changedBy: 'operator-a' });
      expect(JSON.stringify(withdrawn.body)).not.toContain('@');
    });

    it('withdraws consent on a one-click POST with the token from the email, without login', async () => {
      const api = handler();
      const mail = (await parsedOutbox()).get('progress-2026-W47-m_a_001.eml')!;
      const oneClick = /<([^>]+)>/.exec(
        mail.headerLines.find((h) => h.key === 'list-unsubscribe')!.line,
      )![1]!;
      const target = `/api/unsubscribe${new URL(oneClick.replace(/\s+/g, '')).search}`;
      expect((await call(api, 'POST', '/api/unsubscribe?token=forged.token')).status).toBe(403);
      expect((await call(api, 'POST', target)).body).toEqual({ status: 'unsubscribed' });
      expect((await call(api, 'POST', target)).status).toBe(200); // a second click is harmless
      expect(await members().consent('m_a_001')).toMatchObject({ consent: false, source: 'member' });
      expect((await members().listEmailRecipients()).map((r) => r.userToken)).toEqual(['m_b_001']);
    });

    it('never lets an import grant again what the member withdrew', async () => {
      const result = await cli('members', 'import', join(dir, 'members.csv'), ...connection());
      expect(result.stdout).toContain(
        'consent left withdrawn (withdrawn by the member or an operator): m_a_001, m_a_003',
      );
      expect(await members().consent('m_a_001')).toMatchObject({ consent: false, source: 'member' });
    });

    it('lists the local outbox for the dashboard, each operator seeing their gyms’ emails only', async () => {
      const api = handler();
      const listed = await call(api, 'GET', '/api/outbox/emails', claimsOf('operator-b'));
      expect((listed.body.emails as Array<{ id: string }>).map((e) => e.id)).toEqual([
        'progress-2026-W47-m_b_001',
      ]);
      const one = await call(
        api,
        'GET',
        '/api/outbox/emails/progress-2026-W47-m_b_001',
        claimsOf('operator-b'),
      );
      expect(one.body).toMatchObject({ to: 'dee@example.org', week: '2026-W47' });
      expect(String(one.body.html)).toContain('<table role="img"');
      expect(
        (await call(api, 'GET', '/api/outbox/emails/progress-2026-W47-m_b_001', claimsOf('operator-a')))
          .status,
      ).toBe(404);
    });
  });
});
