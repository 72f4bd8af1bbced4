/**
 * Sessions of a gym, newest first: when, where, how long, forward/backward split, calories, balance. A time
 * range (range-picker.js) and filters (treadmill, program, direction, member) narrow it, server-side; both live
 * in the route's query, so a link keeps them. Pages come a cursor at a time ("More"); the CSV holds every page of
 * the filtered list (bounded by the API). Sessions in progress show distance and split from the fleet, as the
 * tiles do. Each poll patches the rows in place (keyed by session), so focus stays where it is.
 */
import { get, seg } from '../api.js';
import { h, reconcile } from '../dom.js';
import { dateTime, distance, duration, elapsed, label, num } from '../format.js';
import { hashQuery, rangePicker, replaceHashQuery } from '../range-picker.js';

/** Rows a page asks for; "More" adds the next page. */
const PAGE_SIZE = 50;
const PROGRAMS = ['forward', 'backward', 'interval', 'hill', 'free'];
/** As the API's userTokenSchema: a malformed token is refused in the page rather than by a 400. */
const MEMBER_PATTERN = '[A-Za-z0-9_\\-]{4,64}';
const FILTERS = /** @type {const} */ (['treadmillId', 'program', 'direction', 'member']);

/**
 * @typedef {{
 *   sessionId: string, gymId: string, treadmillId: string, program?: string, startTs: number,
 *   status: 'active' | 'ended', durationS?: number, distanceM?: number, forwardS?: number, backwardS?: number,
 *   kcal?: number, balanceScore?: number, endReason?: string, userToken?: string,
 * }} SessionItem
 * @typedef {import('./fleet.js').CurrentSession & { backwardShare: number | null }} LiveSession
 */

/**
 * The forward/backward bar: shares of time walked each way.
 * @param {number} backwardShare 0-1, or NaN when the direction is not known
 */
function splitBar(backwardShare) {
  if (!Number.isFinite(backwardShare)) return h('span', { class: 'muted' }, '–');
  const backwardPct = backwardShare * 100;
  return h(
    'div',
    {
      class: 'mini-split',
      role: 'img',
      'aria-label': `${num(100 - backwardPct)}% forward, ${num(backwardPct)}% backward`,
      title: `${num(backwardPct)}% backward`,
      'data-testid': 'session-split',
      'data-backward-share': backwardShare.toFixed(2),
    },
    h('div', { class: 'forward', style: { width: `${100 - backwardPct}%` } }),
    h('div', { class: 'backward', style: { width: `${backwardPct}%` } }),
  );
}

/** @param {SessionItem} session */
function endedShare(session) {
  const forward = session.forwardS ?? 0;
  const backward = session.backwardS ?? 0;
  return forward + backward > 0 ? backward / (forward + backward) : Number.NaN;
}

/**
 * A row; a session in progress takes its time, distance and split from the fleet's live session.
 * @param {string} gym @param {SessionItem} session @param {LiveSession | undefined} live @param {number} now
 */
function row(gym, session, live, now) {
  const href = `#/g/${seg(gym)}/sessions/${seg(session.sessionId)}`;
  const active = session.status === 'active';
  return h(
    'tr',
    {
      class: 'clickable',
      'data-key': session.sessionId,
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
      { 'data-testid': 'session-duration' },
      active
        ? h(
            'span',
            {},
            h('span', { class: 'pill in_use' }, 'live'),
            live ? ` ${elapsed(now - live.startTs)}` : '',
            live ? h('span', { class: 'narrow-only' }, ` · ${distance(live.distanceM)}`) : null,
          )
        : duration(session.durationS ?? 0),
    ),
    h(
      'td',
      { class: 'wide-only', 'data-testid': 'session-distance' },
      distance(active ? live?.distanceM : session.distanceM),
    ),
    h('td', {}, splitBar(active ? (live?.backwardShare ?? Number.NaN) : endedShare(session))),
    h('td', { class: 'wide-only' }, num(session.kcal)),
    h('td', { class: 'wide-only' }, num(session.balanceScore)),
  );
}

/**
 * A labelled select of `options` ([value, text]), the first meaning "any".
 * @param {string} name @param {string} text @param {Array<[string, string]>} options @param {string} value
 */
function select(name, text, options, value) {
  return h(
    'label',
    {},
    `${text} `,
    h(
      'select',
      { name, 'data-testid': `filter-${name}` },
      ...options.map(([optionValue, optionText]) =>
        h('option', { value: optionValue, selected: optionValue === value }, optionText),
      ),
    ),
  );
}

/** Saves `text` as a file the browser downloads. @param {string} filename @param {string} text */
function download(filename, text) {
  const url = URL.createObjectURL(new Blob([text], { type: 'text/csv;charset=utf-8' }));
  const link = h('a', { href: url, download: filename, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** @type {import('../app.js').MountView} */
export async function mountSessions(root, { gym }) {
  const body = h('tbody', {});
  const query = hashQuery();
  /** @type {Record<(typeof FILTERS)[number], string>} */
  const filters = {
    treadmillId: query.get('treadmillId') ?? '',
    program: query.get('program') ?? '',
    direction: query.get('direction') ?? '',
    member: query.get('member') ?? '',
  };
  const filterEntries = () =>
    /** @type {Array<[string, string]>} */ (FILTERS.map((name) => [name, filters[name]]));
  let serverNow = Date.now();
  const picker = rangePicker({
    now: () => serverNow,
    otherEntries: filterEntries,
    onChange: () => reload(),
  });
  const treadmillSelect = h('span', {});
  const more = h('button', { type: 'button', class: 'ghost', 'data-testid': 'sessions-more' }, 'More');
  const csvButton = h(
    'button',
    { type: 'button', class: 'ghost', 'data-testid': 'sessions-csv' },
    'Download CSV',
  );
  const status = h('span', { class: 'sub', role: 'status', 'data-testid': 'sessions-status' });
  const memberInput = h('input', {
    name: 'member',
    type: 'search',
    value: filters.member,
    pattern: MEMBER_PATTERN,
    placeholder: 'member token',
    'data-testid': 'filter-member',
  });
  const form = h(
    'form',
    { class: 'filters', 'data-testid': 'session-filters', 'aria-label': 'Filters' },
    treadmillSelect,
    select(
      'program',
      'Program',
      [
        ['', 'any'],
        ...PROGRAMS.map((program) => /** @type {[string, string]} */ ([program, label(program)])),
      ],
      filters.program,
    ),
    select(
      'direction',
      'Direction',
      [
        ['', 'any'],
        ['forward', 'Some forward'],
        ['backward', 'Some backward'],
      ],
      filters.direction,
    ),
    h('label', {}, 'Member ', memberInput),
    h('button', { type: 'submit', 'data-testid': 'filters-apply' }, 'Filter'),
    csvButton,
  );
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
          h('span', { style: { color: 'var(--forward)' }, 'aria-hidden': 'true' }, '■'),
          ' backward ',
          h('span', { style: { color: 'var(--backward)' }, 'aria-hidden': 'true' }, '■'),
        ),
      ),
      picker.element,
      form,
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
                (name, index) => h('th', { class: [2, 4, 6, 7].includes(index) ? 'wide-only' : '' }, name),
              ),
            ),
          ),
          body,
        ),
        h('div', { class: 'list-foot' }, status, more),
      ),
    ),
  );

  /** The list's query: range, filters and, for a later page, its cursor. @param {string | null} [cursor] */
  function listQuery(cursor = null) {
    const range = picker.current();
    const params = new URLSearchParams({ from: String(range.from) });
    // A preset runs up to now: no end, so that a session started since the last poll is listed.
    if (range.preset === 'custom') params.set('to', String(range.to));
    for (const [name, value] of filterEntries()) if (value) params.set(name, value);
    if (cursor) params.set('cursor', cursor);
    return params;
  }

  /** Pages shown ("More" adds one); each refresh reads them all again from the first, as alerts.js does. */
  let pages = 1;
  /** @type {SessionItem[]} */
  let listed = [];
  /** @type {string | null} */
  let nextCursor = null;
  /** Counts reads: an answer to a read older than the newest (another range, filter or page count) is dropped. */
  let generation = 0;
  /** @type {Map<string, LiveSession>} */
  let live = new Map();

  function render() {
    const seen = new Set();
    const sessions = listed.filter((session) => {
      if (seen.has(session.sessionId)) return false;
      seen.add(session.sessionId);
      return true;
    });
    reconcile(
      body,
      sessions.length > 0
        ? sessions.map((session) => row(gym, session, live.get(session.sessionId), serverNow))
        : [
            h(
              'tr',
              { 'data-key': 'empty' },
              h('td', { colspan: 8, class: 'empty' }, 'No sessions in this range.'),
            ),
          ],
    );
    more.hidden = nextCursor === null;
    status.textContent = `${sessions.length} session${sessions.length === 1 ? '' : 's'} shown${nextCursor === null ? '' : ', more to load'}`;
  }

  /** The shown pages, from the first: a session started since the last read pushes the others down, none is lost. */
  async function readPages() {
    /** @type {SessionItem[]} */
    const sessions = [];
    /** @type {string | null} */
    let cursor = null;
    for (let page = 0; page < pages; page++) {
      const answer = await get(`/gyms/${seg(gym)}/sessions?${listQuery(cursor)}&limit=${PAGE_SIZE}`);
      sessions.push(...answer.sessions);
      cursor = answer.nextCursor ?? null;
      if (cursor === null) break;
    }
    return { sessions, cursor };
  }

  /** The shown pages and the fleet's live sessions. */
  async function refresh() {
    const read = ++generation;
    const [page, fleet] = await Promise.all([readPages(), get(`/gyms/${seg(gym)}/treadmills`)]);
    if (read !== generation) return;
    serverNow = fleet.serverTs;
    listed = page.sessions;
    nextCursor = page.cursor;
    /** @type {import('./fleet.js').Treadmill[]} */
    const treadmills = fleet.treadmills;
    live = new Map(
      treadmills.flatMap((treadmill) =>
        treadmill.session
          ? [[treadmill.session.sessionId, /** @type {LiveSession} */ (treadmill.session)]]
          : [],
      ),
    );
    if (treadmillSelect.childElementCount === 0)
      treadmillSelect.replaceChildren(
        select(
          'treadmillId',
          'Treadmill',
          [
            ['', 'any'],
            ...treadmills.map((t) => /** @type {[string, string]} */ ([t.treadmillId, t.treadmillId])),
          ],
          filters.treadmillId,
        ),
      );
    render();
  }

  /** A new range or filter: back to the first page. */
  async function reload() {
    pages = 1;
    await refresh();
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (!memberInput.checkValidity()) {
      memberInput.reportValidity();
      return;
    }
    const data = new FormData(form);
    for (const name of FILTERS) filters[name] = String(data.get(name) ?? '').trim();
    replaceHashQuery([...picker.entries(), ...filterEntries()]);
    reload().catch((error) => {
      status.textContent = error instanceof Error ? error.message : String(error);
    });
  });
  more.addEventListener('click', async () => {
    if (nextCursor === null) return;
    more.disabled = true;
    try {
      pages++;
      await refresh();
    } finally {
      more.disabled = false;
    }
  });
  csvButton.addEventListener('click', async () => {
    csvButton.disabled = true;
    status.textContent = 'Preparing the CSV…';
    try {
      const params = listQuery();
      const csv = await get(`/gyms/${seg(gym)}/sessions/csv?${params}`);
      download(csv.filename, csv.csv);
      status.textContent = `CSV: ${csv.rows} session${csv.rows === 1 ? '' : 's'}${csv.truncated ? ' (the first ones only: narrow the range for the rest)' : ''}.`;
    } catch (error) {
      status.textContent = `CSV failed: ${error instanceof Error ? error.message : String(error)}`;
    } finally {
      csvButton.disabled = false;
    }
  });

  await refresh();
  return { refresh };
}
