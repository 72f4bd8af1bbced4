import { describe, expect, it } from 'vitest';
import {
  importMaySetConsent,
  MemberFileError,
  parseMemberCsv,
} from '../../shared/src/members/member-import.js';

const YEAR = 2026;

describe('members CSV', () => {
  it('keeps good rows and reports bad ones by the line they are on', () => {
    const csv = [
      'userToken,email,consent,weightKg,birthYear,sex,gymId',
      'm_a_001,ann@example.org,yes,61.5,1980,female,gym-a',
      'm_a_002,not-an-email,yes,,,,gym-a',
      'm_a_003,bo@example.org,maybe,70,2031,other,gym-a',
      '',
      '"m_a_004","cy@example.org","NO","","","",""',
      'm_a_001,again@example.org,yes,,,,',
      'ann@example.org,ann@example.org,yes,,,,',
      'm_a_005,dee@example.org,yes',
    ].join('\n');
    const { members, problems } = parseMemberCsv(csv, YEAR);
    expect(members.map(({ line, member }) => [line, member])).toEqual([
      [
        2,
        {
          userToken: 'm_a_001',
          email: 'ann@example.org',
          consent: true,
          weightKg: 61.5,
          birthYear: 1980,
          sex: 'female',
          gymId: 'gym-a',
        },
      ],
      [6, { userToken: 'm_a_004', email: 'cy@example.org', consent: false }],
    ]);
    expect(problems).toEqual([
      { line: 3, reasons: ['email: not an email address'] },
      {
        line: 4,
        reasons: [
          'consent: must be yes or no',
          'birthYear: must not be in the future',
          'sex: must be female, male or empty',
        ],
      },
      { line: 7, reasons: ['userToken: m_a_001 is already on line 2'] },
      { line: 8, reasons: [expect.stringMatching(/^userToken: letters, digits/)] },
      { line: 9, reasons: ['expected 7 fields, found 3'] },
    ]);
  });

  it('needs the required columns and refuses unknown ones as a whole-file problem', () => {
    expect(() => parseMemberCsv('userToken,email\nm1,a@b.org\n', YEAR)).toThrow(MemberFileError);
    expect(() => parseMemberCsv('userToken,email,consent,name\n', YEAR)).toThrow(/unknown column\(s\) name/);
    expect(() => parseMemberCsv('', YEAR)).toThrow(/empty/);
    expect(parseMemberCsv('consent,email,userToken\r\nno,a@b.org,m1\r\n', YEAR).members).toHaveLength(1);
  });
});

describe('consent from an import', () => {
  it('always withdraws, and grants only over an earlier import', () => {
    expect(importMaySetConsent(undefined, true)).toBe(true);
    expect(importMaySetConsent({ consent: true, source: 'member' }, false)).toBe(true);
    expect(importMaySetConsent({ consent: false, source: 'import' }, true)).toBe(true);
    expect(importMaySetConsent({ consent: false, source: 'member' }, true)).toBe(false);
    expect(importMaySetConsent({ consent: false, source: 'operator' }, true)).toBe(false);
    expect(importMaySetConsent({ consent: true, source: 'import' }, true)).toBe(false);
  });
});
