/**
 * The local stand-in for SES: each progress email as an .eml file in a directory, with a JSON sidecar (parts
 * and headers) that the API lists for the dashboard. Kept apart from the MIME building so that the API reads
 * the outbox without loading nodemailer.
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { EmailTransport, ProgressMessage } from './email-message.js';

export interface OutboxEntry {
  id: string;
  week: string;
  userToken: string;
  gymId: string | null;
  to: string;
  subject: string;
  date: number;
}

export interface OutboxMessage extends OutboxEntry {
  html: string;
  text: string;
}

const OUTBOX_PREFIX = 'progress-';
const OUTBOX_ID = /^progress-\d{4}-W\d{2}-[A-Za-z0-9_.:-]+$/;

/** `{dir}/progress-{week}-{token}.eml` and `.json`. */
export class FileOutbox implements EmailTransport {
  constructor(readonly dir: string) {}

  async send(message: ProgressMessage, raw: Buffer): Promise<string> {
    const id = `${OUTBOX_PREFIX}${message.week}-${message.userToken}`;
    const entry: OutboxMessage = {
      id,
      week: message.week,
      userToken: message.userToken,
      gymId: message.gymId,
      to: message.to,
      subject: message.email.subject,
      date: message.date,
      html: message.email.html,
      text: message.email.text,
    };
    await mkdir(this.dir, { recursive: true });
    await writeFile(join(this.dir, `${id}.eml`), raw);
    await writeFile(join(this.dir, `${id}.json`), `${JSON.stringify(entry)}\n`);
    return id;
  }

  /** Every message in the outbox, newest first. */
  async list(): Promise<OutboxEntry[]> {
    const names = await readdir(this.dir).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return [];
      throw error;
    });
    const entries: OutboxEntry[] = [];
    for (const name of names) {
      if (!name.startsWith(OUTBOX_PREFIX) || !name.endsWith('.json')) continue;
      const message = await this.get(name.slice(0, -'.json'.length));
      if (message) {
        const { html: _html, text: _text, ...entry } = message;
        entries.push(entry);
      }
    }
    return entries.sort((a, b) => b.date - a.date || (a.id < b.id ? -1 : 1));
  }

  async get(id: string): Promise<OutboxMessage | undefined> {
    if (!OUTBOX_ID.test(id)) return undefined;
    try {
      return JSON.parse(await readFile(join(this.dir, `${id}.json`), 'utf8')) as OutboxMessage;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }
}
