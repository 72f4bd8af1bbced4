/**
 * A progress email ready to go out, and what delivers it: the types the MIME building (email-delivery.ts), the
 * local outbox (email-outbox.ts) and the weekly run (progress-emails.ts) share.
 */
import type { EmailLinks, RenderedEmail } from '../../shared/src/email/render.js';

export interface ProgressEmailLinks extends EmailLinks {
  /** RFC 8058 one-click target: an https URL answering POST, carrying the signed token. */
  oneClick: string;
}

export interface ProgressMessage {
  userToken: string;
  week: string;
  gymId: string | null;
  from: string;
  to: string;
  email: RenderedEmail;
  links: ProgressEmailLinks;
  /** Epoch ms for the Date header. */
  date: number;
}

export interface EmailTransport {
  /** Delivers the message; returns an id for the marker. */
  send(message: ProgressMessage, raw: Buffer): Promise<string>;
}
