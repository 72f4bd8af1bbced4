/**
 * Turning a rendered progress email into a MIME message (nodemailer's MailComposer) and delivering it: SES v2
 * in AWS (the raw message, so AWS sends exactly what was built and tested), the local outbox otherwise
 * (email-outbox.ts).
 */
import { createHash } from 'node:crypto';
import MailComposer from 'nodemailer/lib/mail-composer';
import { isLocalEndpoint } from '../../shared/src/aws/clients.js';
import type { EmailTransport, ProgressEmailLinks, ProgressMessage } from './email-message.js';

/**
 * The links of one email under the public origin (where the dashboard and /api are served). The one-click URL
 * must be https (RFC 8058); plain http is accepted only on loopback, for the local stack.
 */
export function progressEmailLinks(publicBaseUrl: string, unsubscribeToken: string): ProgressEmailLinks {
  const base = new URL(publicBaseUrl);
  if (base.protocol !== 'https:' && !(base.protocol === 'http:' && isLocalEndpoint(base.origin)))
    throw new Error(`PUBLIC_BASE_URL must be https (or http on loopback): ${publicBaseUrl}`);
  const at = (path: string) => {
    const url = new URL(path, base);
    url.searchParams.set('token', unsubscribeToken);
    return url.toString();
  };
  return { unsubscribePage: at('/unsubscribe.html'), oneClick: at('/api/unsubscribe') };
}

/** The same member and week always get the same Message-ID, so a mail system can spot a duplicate. */
export function progressMessageId(message: Pick<ProgressMessage, 'userToken' | 'week' | 'from'>): string {
  const domain = /@([^>\s]+)>?\s*$/.exec(message.from)?.[1] ?? 'retrostride.invalid';
  const member = createHash('sha256').update(message.userToken).digest('hex').slice(0, 16);
  return `<progress-${message.week}-${member}@${domain}>`;
}

/** The message as RFC 5322 bytes: multipart/alternative with the text and HTML parts. */
export function buildProgressMime(message: ProgressMessage): Promise<Buffer> {
  const composer = new MailComposer({
    from: message.from,
    to: message.to,
    subject: message.email.subject,
    text: message.email.text,
    html: message.email.html,
    date: new Date(message.date),
    messageId: progressMessageId(message),
    headers: {
      'List-Unsubscribe': `<${message.links.oneClick}>`,
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
      'X-Retrostride-Week': message.week,
      ...(message.gymId && { 'X-Retrostride-Gym': message.gymId }),
    },
  });
  return composer.compile().build();
}

/** SES v2, imported when the first email goes out: a run with nothing to send never loads it (about 25 ms). */
async function loadSes() {
  const { SendEmailCommand, SESv2Client } = await import('@aws-sdk/client-sesv2');
  return { ses: new SESv2Client({}), SendEmailCommand };
}

export class SesTransport implements EmailTransport {
  private sdk: ReturnType<typeof loadSes> | undefined;

  constructor(private readonly configurationSet?: string) {}

  async send(message: ProgressMessage, raw: Buffer): Promise<string> {
    this.sdk ??= loadSes();
    const { ses, SendEmailCommand } = await this.sdk;
    const result = await ses.send(
      new SendEmailCommand({
        FromEmailAddress: message.from,
        Destination: { ToAddresses: [message.to] },
        Content: { Raw: { Data: raw } },
        ...(this.configurationSet && { ConfigurationSetName: this.configurationSet }),
      }),
    );
    return result.MessageId ?? progressMessageId(message);
  }
}
