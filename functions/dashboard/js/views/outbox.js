/**
 * The local outbox: the progress emails `retrostride emails --send` wrote for this gym's members, each shown as
 * its recipient would see it. In AWS SES sends them and the API has no outbox (404): the view says so. No
 * emails yet: an empty state says how to make some, instead of an empty table and a blank preview.
 */
import { ApiFailure, get, seg } from '../api.js';
import { h } from '../dom.js';
import { dateTime, gymName } from '../format.js';

/** @typedef {{ id: string, week: string, userToken: string, gymId: string | null, to: string, subject: string, date: number }} OutboxEntry */

/** @type {import('../app.js').MountView} */
export async function mountOutbox(root, { gym }) {
  // No scripts and no network for the email: an empty sandbox, as a careful mail client would render it.
  const preview = h('iframe', {
    class: 'outbox-preview',
    sandbox: '',
    title: 'Email preview',
    'data-testid': 'outbox-preview',
  });
  const rows = h('tbody', {});
  root.append(
    h(
      'div',
      { class: 'page-head' },
      h('h1', {}, `${gymName(gym)} · outbox`),
      h('span', { class: 'sub' }, 'Weekly progress emails sent by the local stack'),
    ),
  );

  /** @type {OutboxEntry[]} */
  let emails;
  try {
    emails = /** @type {{ emails: OutboxEntry[] }} */ (await get('/outbox/emails')).emails.filter(
      (email) => email.gymId === gym,
    );
  } catch (error) {
    if (!(error instanceof ApiFailure && error.status === 404)) throw error;
    root.append(
      h(
        'p',
        { class: 'card empty', 'data-testid': 'outbox-empty' },
        'No local outbox here: progress emails go out through SES.',
      ),
    );
    return {};
  }

  const show = async (/** @type {OutboxEntry} */ email, /** @type {HTMLElement} */ row) => {
    for (const other of rows.querySelectorAll('tr')) other.classList.toggle('selected', other === row);
    const message = /** @type {{ html: string }} */ (await get(`/outbox/emails/${seg(email.id)}`));
    preview.srcdoc = message.html;
  };
  if (emails.length === 0) {
    root.append(
      h(
        'div',
        { class: 'card empty', 'data-testid': 'outbox-empty' },
        h('p', {}, `No progress emails for ${gymName(gym)} yet.`),
        h(
          'p',
          {},
          'They are written every Monday for the week before; to write some now run ',
          h('code', {}, 'npx retrostride emails --week 2026-W48 --send'),
          ' (any finished week).',
        ),
      ),
    );
    return {};
  }
  for (const email of emails) {
    const row = h(
      'tr',
      { class: 'clickable', 'data-testid': 'outbox-email', 'data-email-id': email.id },
      h('td', {}, email.week),
      h('td', {}, email.to),
      h(
        'td',
        {},
        // A button, so the keyboard opens the preview too (its click reaches the row's listener).
        h('button', { type: 'button', class: 'link' }, email.subject),
      ),
      h('td', {}, dateTime(email.date)),
    );
    row.addEventListener('click', () => void show(email, row));
    rows.append(row);
  }
  root.append(
    h(
      'div',
      { class: 'card' },
      h(
        'table',
        { class: 'list' },
        h(
          'thead',
          {},
          h('tr', {}, h('th', {}, 'Week'), h('th', {}, 'To'), h('th', {}, 'Subject'), h('th', {}, 'Written')),
        ),
        rows,
      ),
    ),
    preview,
  );
  const first = rows.querySelector('tr[data-testid="outbox-email"]');
  if (first && emails[0]) await show(emails[0], /** @type {HTMLElement} */ (first));
  return {};
}
