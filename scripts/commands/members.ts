/** `retrostride members import FILE.csv`: members, their contact, consent and profile into the members table. */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import {
  MEMBER_COLUMNS,
  MemberFileError,
  parseMemberCsv,
  type RowProblem,
} from '../../shared/src/members/member-import.js';
import { tableNames } from '../../shared/src/tables.js';
import { importMembersCsv } from '../../functions/lib/members-import-job.js';
import { MembersRepo } from '../../functions/lib/members-repo.js';
import { type Command, parseCommandArgs, UsageError } from '../lib/command.js';
import { CONNECTION_FLAGS, CONNECTION_USAGE, connectToTables } from '../lib/stack-connection.js';

const reportProblems = (problems: readonly RowProblem[]) => {
  for (const { line, reasons } of problems) console.error(`line ${line}: ${reasons.join('; ')}`);
};

export const membersCommand: Command = {
  name: 'members',
  summary: 'Import members (email, consent, profile) from a CSV file; bad rows are reported by line',
  usage:
    'members import FILE.csv [--dry-run]\n\n' +
    `  FILE.csv          header line, then one member per line; columns ${MEMBER_COLUMNS.join(', ')}\n` +
    '                    (the first three required; consent yes/no; sex female/male; empty = unknown)\n' +
    '  --dry-run         check the file only\n' +
    '  Rows are upserted by userToken: running a file again changes nothing. A file never grants consent\n' +
    '  that the member (unsubscribe link) or an operator withdrew. Exit code 1 when some rows were rejected.\n' +
    CONNECTION_USAGE,
  async run(argv) {
    const { values, positionals } = parseCommandArgs(
      argv,
      { 'dry-run': { type: 'boolean' }, ...CONNECTION_FLAGS },
      true,
    );
    const [action, file, ...extra] = positionals;
    if (action !== 'import') throw new UsageError('the only action is `members import FILE.csv`');
    if (file === undefined || extra.length > 0) throw new UsageError('give exactly one CSV file to import');
    const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
      throw new UsageError(`cannot read ${file}: ${error.code ?? error.message}`);
    });
    const now = Date.now();
    try {
      if (values['dry-run']) {
        const parsed = parseMemberCsv(text, new Date(now).getUTCFullYear());
        reportProblems(parsed.problems);
        console.log(
          `${parsed.members.length} rows valid, ${parsed.problems.length} rejected (dry run: nothing written)`,
        );
        return parsed.problems.length > 0 ? 1 : 0;
      }
      const connection = await connectToTables(values);
      try {
        const repo = new MembersRepo(connection.doc, tableNames(connection.tablePrefix).members);
        const summary = await importMembersCsv(repo, text, { now, source: `import:${basename(file)}` });
        reportProblems(summary.problems);
        console.log(
          `imported ${summary.imported} members (${summary.created} new), consent changed for ${summary.consentSet}, ` +
            `${summary.problems.length} rows rejected`,
        );
        if (summary.consentKept.length > 0)
          console.log(
            `consent left withdrawn (withdrawn by the member or an operator): ${summary.consentKept.join(', ')}`,
          );
        return summary.problems.length > 0 ? 1 : 0;
      } finally {
        connection.close();
      }
    } catch (error) {
      if (error instanceof MemberFileError) throw new UsageError(`${file}: ${error.message}`);
      throw error;
    }
  },
};
