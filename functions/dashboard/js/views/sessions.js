/** Sessions of a gym, newest first: when, where, how long, forward/backward split, calories, balance. */
import { get, seg } from '../api.js';
import { h } from '../dom.js';
import { dateTime, distance, duration, label, num } from '../format.js';

/**
 * @typedef {{
 *   sessionId: string, gymId: string, treadmillId: string, program?: string, startTs: number,
 *   status: 'active' | 'ended', durationS?: number, distanceM?: number, forwardS?: number, backwardS?: number,
 *   kcal?: number, balanceScore?: number, endReason?: string,
 * }} SessionItem
 */

/** @param {SessionItem} session */
function split(session) {
  const forward = session.forwardS ?? 0;
  const backward = session.backwardS ?? 0;
  const total = forward + backward;
  if (total === 0) return h('span', { class: 'muted' }, '–');
  return h(
    'div',
    { class: 'mini-split', title: `${num((backward / total) * 100)}% backward` },
    h('div', { class: 'forward', style: { width: `${(forward / total) * 100}%` } }),
    h('div', { class: 'backward', style: { width: `${(backward / total) * 100}%` } }),
  );
}

/** @type {import('../app.js').MountView} */
export async function mountSessions(root, { gym }) {
  const body = h('tbody', {});
  root.append(
    h(
      'div',
      { 'data-testid': 'sessions-view' },
      h(
        'div',
        { class: 'page-head' },
        h('h1', {}, 'Sessions'),
        h(
          'span',
          { class: 'sub' },
          'Newest first · forward ',
          h('span', { style: { color: 'var(--forward)' } }, '■'),
          ' backward ',
          h('span', { style: { color: 'var(--backward)' } }, '■'),
        ),
      ),
      h(
        'div',
        { class: 'card', style: { padding: '6px 10px' } },
        h(
          'table',
          { class: 'list' },
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              ...['Started', 'Treadmill', 'Program', 'Duration', 'Distance', 'Split', 'kcal', 'Balance'].map(
                (name) => h('th', {}, name),
              ),
            ),
          ),
          body,
        ),
      ),
    ),
  );

  async function refresh() {
    const data = await get(`/gyms/${seg(gym)}/sessions?limit=100`);
    /** @type {SessionItem[]} */
    const sessions = data.sessions;
    body.replaceChildren(
      ...(sessions.length > 0
        ? sessions.map((session) => {
            const href = `#/g/${seg(gym)}/sessions/${seg(session.sessionId)}`;
            return h(
              'tr',
              {
                class: 'clickable',
                'data-testid': 'session-row',
                'data-session-id': session.sessionId,
                'data-status': session.status,
                onclick: () => {
                  location.hash = href;
                },
              },
              h('td', {}, h('a', { href }, dateTime(session.startTs))),
              h('td', {}, session.treadmillId),
              h('td', { class: 'wide-only' }, session.program ? label(session.program) : '–'),
              h(
                'td',
                {},
                session.status === 'active'
                  ? h('span', { class: 'pill in_use' }, 'live')
                  : duration(session.durationS ?? 0),
              ),
              h('td', { class: 'wide-only' }, distance(session.distanceM)),
              h('td', {}, split(session)),
              h('td', { class: 'wide-only' }, num(session.kcal)),
              h('td', { class: 'wide-only' }, num(session.balanceScore)),
            );
          })
        : [h('tr', {}, h('td', { colspan: 8, class: 'empty' }, 'No sessions yet.'))]),
    );
  }

  await refresh();
  return { refresh };
}
