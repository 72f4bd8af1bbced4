/** `retrostride emails --week 2026-W47 [--send]`: the weekly progress emails, previewed or sent locally. */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { FileOutbox } from '../../functions/lib/email-outbox.js';
import {
  type ProgressEmailRun,
  progressEmailDeps,
  runProgressEmails,
} from '../../functions/lib/progress-emails.js';
import { isIsoWeek } from '../../shared/src/iso-week.js';
import { type Command, parseCommandArgs, requireFlag, UsageError } from '../lib/command.js';
import { localSecret } from '../lib/local-secrets.js';
import {
  CONNECTION_FLAGS,
  CONNECTION_USAGE,
  connectToTables,
  LOCAL_EMAIL_FROM,
} from '../lib/stack-connection.js';

function printRun(run: ProgressEmailRun, sent: boolean): void {
  const done = sent ? `sent ${run.sent.length}` : `previewed ${run.previewed.length}`;
  console.log(
    `${run.week}: ${run.consenting} members with consent, ${run.noSessions} without a session that week; ` +
      `${done}, already sent ${run.alreadySent.length}, failed ${run.failed.length}`,
  );
  for (const failure of run.failed) console.error(`failed: ${failure.userToken}: ${failure.reason}`);
}

export const emailsCommand: Command = {
  name: 'emails',
  summary: 'Weekly progress emails: preview them (default) or send them to the local outbox (--send)',
  usage:
    'emails --week YYYY-Www [--send] [--member TOKEN ...] [--preview-dir DIR] [--outbox DIR] [--base-url URL] [--from ADDR]\n\n' +
    '  --week            the ISO week to report on, e.g. 2026-W47\n' +
    '  --send            send: one .eml per member into the outbox, at most once per member and week\n' +
    '                    (without it: previews in --preview-dir, default DATA_DIR/email-preview/WEEK)\n' +
    '  --member          only this member (repeat for several); with one member and no --send, the text\n' +
    '                    part is printed too\n' +
    '  --outbox          where --send writes (default DATA_DIR/outbox, which the dashboard lists)\n' +
    '  --base-url        origin for the unsubscribe links (default: $PUBLIC_BASE_URL, else the local stack)\n' +
    `  --from            sender (default $EMAIL_FROM, else "${LOCAL_EMAIL_FROM}")\n` +
    CONNECTION_USAGE,
  async run(argv) {
    const { values } = parseCommandArgs(argv, {
      week: { type: 'string' },
      send: { type: 'boolean' },
      member: { type: 'string', multiple: true },
      'preview-dir': { type: 'string' },
      outbox: { type: 'string' },
      'base-url': { type: 'string' },
      from: { type: 'string' },
      ...CONNECTION_FLAGS,
    });
    const week = requireFlag('week', values.week);
    if (!isIsoWeek(week)) throw new UsageError(`--week must be an ISO week such as 2026-W47, got "${week}"`);
    const connection = await connectToTables(values);
    try {
      const publicBaseUrl = values['base-url'] ?? process.env.PUBLIC_BASE_URL ?? connection.stack?.apiUrl;
      if (!publicBaseUrl)
        throw new UsageError('--base-url (or $PUBLIC_BASE_URL) is required when not using the local stack');
      const deps = progressEmailDeps(connection.doc, connection.tablePrefix, {
        from: values.from ?? process.env.EMAIL_FROM ?? LOCAL_EMAIL_FROM,
        publicBaseUrl,
        unsubscribeSecret:
          process.env.UNSUBSCRIBE_SECRET ?? (await localSecret(connection.dataDir, 'unsubscribe')),
      });
      const only = values.member ? { onlyMembers: values.member } : {};
      if (values.send) {
        const outbox = new FileOutbox(resolve(values.outbox ?? join(connection.dataDir, 'outbox')));
        const run = await runProgressEmails(deps, week, { send: true, transport: outbox }, only);
        printRun(run, true);
        if (run.sent.length > 0) console.log(`outbox: ${outbox.dir}`);
        return run.failed.length > 0 ? 1 : 0;
      }
      const dir = resolve(values['preview-dir'] ?? join(connection.dataDir, 'email-preview', week));
      await mkdir(dir, { recursive: true });
      const printText = values.member?.length === 1;
      const run = await runProgressEmails(
        deps,
        week,
        {
          send: false,
          preview: async (message, raw) => {
            const base = join(dir, message.userToken);
            await writeFile(`${base}.eml`, raw);
            await writeFile(`${base}.html`, message.email.html);
            await writeFile(`${base}.txt`, message.email.text);
            console.log(`${message.userToken}  to ${message.to}  "${message.email.subject}"`);
            if (printText) console.log(`\n${message.email.text}`);
          },
        },
        only,
      );
      printRun(run, false);
      if (run.previewed.length > 0) console.log(`previews (.eml, .html, .txt): ${dir}`);
      return run.failed.length > 0 ? 1 : 0;
    } finally {
      connection.close();
    }
  },
};
