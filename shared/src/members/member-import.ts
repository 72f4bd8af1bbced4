/**
 * Members from a CSV file (`retrostride members import`): one member per row, columns by header name, each row
 * checked on its own so that bad rows are reported by line and good rows are kept.
 *
 * Columns: userToken, email, consent (required); weightKg, birthYear, sex, gymId (optional, empty for unknown).
 * The token is the pseudonym the treadmills know the member by; it must not be an email address.
 */
import * as z from 'zod';
import { type CsvRecord, CsvSyntaxError, parseCsv } from '../csv.js';
import { gymIdSchema } from '../telemetry/events.js';
import { issueReasons } from '../telemetry/validate.js';

export const MEMBER_COLUMNS = [
  'userToken',
  'email',
  'consent',
  'weightKg',
  'birthYear',
  'sex',
  'gymId',
] as const;
const REQUIRED_COLUMNS = ['userToken', 'email', 'consent'] as const;
type MemberColumn = (typeof MEMBER_COLUMNS)[number];

export const userTokenSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_.:-]+$/, 'letters, digits, "_", ".", ":" or "-" only (a pseudonym, never an email)');

const CONSENT_WORDS: Record<string, boolean> = {
  yes: true,
  true: true,
  '1': true,
  y: true,
  no: false,
  false: false,
  '0': false,
  n: false,
};

const optionalNumber = (schema: z.ZodNumber) =>
  z
    .string()
    .transform((text) => (text.trim() === '' ? undefined : Number(text)))
    .pipe(schema.optional());

export const memberRowSchema = (currentYear: number) =>
  z.object({
    userToken: userTokenSchema,
    email: z.email('not an email address').max(254),
    consent: z
      .string()
      .transform((text) => CONSENT_WORDS[text.trim().toLowerCase()])
      .pipe(z.boolean({ error: 'must be yes or no' })),
    weightKg: optionalNumber(z.number({ error: 'must be a number' }).min(20).max(400)),
    birthYear: optionalNumber(
      z
        .number({ error: 'must be a year' })
        .int('must be a whole year')
        .min(1900)
        .max(currentYear, 'must not be in the future'),
    ),
    sex: z
      .string()
      .transform((text) => (text.trim() === '' ? undefined : text.trim().toLowerCase()))
      .pipe(z.enum(['female', 'male'], { error: 'must be female, male or empty' }).optional()),
    gymId: z
      .string()
      .transform((text) => (text.trim() === '' ? undefined : text.trim()))
      .pipe(gymIdSchema.optional()),
  });

export type MemberRecord = z.output<ReturnType<typeof memberRowSchema>>;

export interface RowProblem {
  line: number;
  reasons: string[];
}

export interface MemberImport {
  members: Array<{ line: number; member: MemberRecord }>;
  problems: RowProblem[];
}

/** A problem with the whole file (no header, unknown or missing columns, unreadable CSV). */
export class MemberFileError extends Error {
  override readonly name = 'MemberFileError';
}

function headerOf(record: CsvRecord | undefined): MemberColumn[] {
  if (!record) throw new MemberFileError('the file is empty: expected a header line');
  const names = record.fields.map((name) => name.trim());
  const unknown = names.filter((name) => !(MEMBER_COLUMNS as readonly string[]).includes(name));
  if (unknown.length > 0)
    throw new MemberFileError(
      `unknown column(s) ${unknown.join(', ')} (expected ${MEMBER_COLUMNS.join(', ')})`,
    );
  const missing = REQUIRED_COLUMNS.filter((name) => !names.includes(name));
  if (missing.length > 0) throw new MemberFileError(`missing column(s) ${missing.join(', ')}`);
  const repeated = names.filter((name, i) => names.indexOf(name) !== i);
  if (repeated.length > 0) throw new MemberFileError(`column(s) named twice: ${repeated.join(', ')}`);
  return names as MemberColumn[];
}

/** Parses and checks a members CSV; `currentYear` bounds birth years (the caller's clock). */
export function parseMemberCsv(text: string, currentYear: number): MemberImport {
  let records: CsvRecord[];
  try {
    records = parseCsv(text);
  } catch (error) {
    if (error instanceof CsvSyntaxError) throw new MemberFileError(error.message);
    throw error;
  }
  const [first, ...rows] = records;
  const header = headerOf(first);
  const schema = memberRowSchema(currentYear);
  const result: MemberImport = { members: [], problems: [] };
  const seen = new Map<string, number>();
  for (const { line, fields } of rows) {
    if (fields.length !== header.length) {
      result.problems.push({ line, reasons: [`expected ${header.length} fields, found ${fields.length}`] });
      continue;
    }
    const raw: Record<string, string> = Object.fromEntries(MEMBER_COLUMNS.map((name) => [name, '']));
    header.forEach((name, i) => {
      raw[name] = fields[i] ?? '';
    });
    raw.userToken = raw.userToken!.trim();
    raw.email = raw.email!.trim();
    const parsed = schema.safeParse(raw);
    if (!parsed.success) {
      result.problems.push({ line, reasons: issueReasons(parsed.error) });
      continue;
    }
    const earlier = seen.get(parsed.data.userToken);
    if (earlier !== undefined) {
      result.problems.push({
        line,
        reasons: [`userToken: ${parsed.data.userToken} is already on line ${earlier}`],
      });
      continue;
    }
    seen.set(parsed.data.userToken, line);
    result.members.push({ line, member: parsed.data });
  }
  return result;
}

export type ConsentSource = 'import' | 'operator' | 'member';

/**
 * Whether an import may set consent to `imported`. A withdrawal always applies; a grant never overrides a choice
 * made through the API (the member's own unsubscribe link, or an operator), only an earlier import.
 */
export function importMaySetConsent(
  stored: { consent: boolean; source: ConsentSource } | undefined,
  imported: boolean,
): boolean {
  if (stored === undefined) return true;
  if (stored.consent === imported) return false;
  return !imported || stored.source === 'import';
}
