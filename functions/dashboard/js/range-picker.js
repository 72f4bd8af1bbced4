/**
 * The time range a history view shows: today, the last 7 or 30 days, or custom days (from/to, local dates),
 * at most MAX_RANGE_DAYS local days: a day under the API's longest status history (92 days of 24 h,
 * functions/api/schemas.ts), since a local day across a clock change lasts 25 h. The choice lives in the
 * route's query (`#/g/gym-a/sessions?range=custom&from=2026-11-01&to=2026-11-30`), so a deep link keeps it;
 * changing it rewrites the hash without a new history entry or a remount.
 */
import { h } from './dom.js';

export const MAX_RANGE_DAYS = 91;

export const PRESETS = /** @type {const} */ ({
  today: 'Today',
  '7d': 'Last 7 days',
  '30d': 'Last 30 days',
  custom: 'Custom',
});

/**
 * @typedef {keyof typeof PRESETS} Preset
 * @typedef {{ preset: Preset, from: number, to: number, fromDay: string, toDay: string, note: string | null }} TimeRange
 *   `from`/`to` epoch ms (both included); `fromDay`/`toDay` the local dates shown; `note` says what was corrected.
 */

/** Local date "yyyy-mm-dd" of `ts`. @param {number} ts */
export function localDay(ts) {
  const d = new Date(ts);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

/** Local midnight starting the date "yyyy-mm-dd", or null for anything else. @param {string | null} day */
function dayStart(day) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day ?? '');
  if (!m) return null;
  const [year, month, date] = [Number(m[1]), Number(m[2]) - 1, Number(m[3])];
  const start = new Date(year, month, date);
  // Rejects 2026-02-31 and the like, which Date would roll over.
  return start.getFullYear() === year && start.getMonth() === month && start.getDate() === date
    ? start.getTime()
    : null;
}

/** The local midnight `days` days before `ts`'s date. @param {number} ts @param {number} days */
function midnightBefore(ts, days) {
  const d = new Date(ts);
  return new Date(d.getFullYear(), d.getMonth(), d.getDate() - days).getTime();
}

/**
 * The range a query asks for, bounded: unknown presets and unreadable dates give the last 7 days; a custom
 * range ends no later than now, starts no later than it ends, and spans at most MAX_RANGE_DAYS days.
 * @param {{ get(name: string): string | null }} query
 * @param {number} now
 * @returns {TimeRange}
 */
export function rangeOf(query, now) {
  const asked = query.get('range');
  /** @param {Preset} preset @param {number} from @param {string | null} note @returns {TimeRange} */
  const ending = (preset, from, note = null) => ({
    preset,
    from,
    to: now,
    fromDay: localDay(from),
    toDay: localDay(now),
    note,
  });
  if (asked === 'today') return ending('today', midnightBefore(now, 0));
  if (asked === '30d') return ending('30d', midnightBefore(now, 29));
  if (asked !== 'custom') return ending('7d', midnightBefore(now, 6));
  let from = dayStart(query.get('from'));
  const toDay = dayStart(query.get('to'));
  if (from === null || toDay === null)
    return ending('7d', midnightBefore(now, 6), 'Dates not readable: last 7 days shown.');
  /** @type {string[]} */
  const notes = [];
  let to = Math.min(midnightBefore(toDay, -1) - 1, now);
  if (to < toDay) notes.push('The range ends today.');
  if (from > to) {
    from = midnightBefore(to, 0);
    notes.push('From was after to.');
  }
  const earliest = midnightBefore(to, MAX_RANGE_DAYS - 1);
  if (from < earliest) {
    from = earliest;
    notes.push(`At most ${MAX_RANGE_DAYS} days.`);
  }
  to = Math.max(to, from);
  return {
    preset: 'custom',
    from,
    to,
    fromDay: localDay(from),
    toDay: localDay(to),
    note: notes.length > 0 ? notes.join(' ') : null,
  };
}

/** The query entries that name `range` (custom ranges by their dates). @param {TimeRange} range */
export function rangeEntries(range) {
  return range.preset === 'custom'
    ? [
        ['range', 'custom'],
        ['from', range.fromDay],
        ['to', range.toDay],
      ]
    : [['range', range.preset]];
}

/** The query of the current route (after "?" in the hash). */
export const hashQuery = () => new URLSearchParams(location.hash.split('?')[1] ?? '');

/**
 * Rewrites the route's query with `entries` (empty values dropped), keeping the path: the URL is the deep link,
 * and no hashchange fires (the view updates itself, in place).
 * @param {Array<[string, string]>} entries
 */
export function replaceHashQuery(entries) {
  const path = location.hash.split('?')[0] ?? '';
  const query = new URLSearchParams(entries.filter(([, value]) => value !== ''));
  const text = query.toString();
  history.replaceState(history.state, '', `${path}${text ? `?${text}` : ''}`);
}

/**
 * The picker: preset buttons, and from/to date fields for a custom range. It reads the hash on creation and
 * calls `onChange` with each new range after writing it to the hash (with `otherEntries()`, the view's own
 * filters, so that both stay in the link).
 * @param {{ now: () => number, onChange: (range: TimeRange) => void, otherEntries?: () => Array<[string, string]> }} options
 */
export function rangePicker({ now, onChange, otherEntries = () => [] }) {
  let range = rangeOf(hashQuery(), now());
  const fromInput = h('input', { type: 'date', 'data-testid': 'range-from', 'aria-label': 'From' });
  const toInput = h('input', { type: 'date', 'data-testid': 'range-to', 'aria-label': 'To' });
  const apply = h('button', { type: 'submit', class: 'ghost', 'data-testid': 'range-apply' }, 'Show');
  const note = h('span', { class: 'sub', 'data-testid': 'range-note', role: 'status' });
  /** @type {Map<Preset, HTMLButtonElement>} */
  const buttons = new Map();
  const custom = h(
    'form',
    { class: 'range-custom' },
    h('label', {}, 'From ', fromInput),
    h('label', {}, 'To ', toInput),
    apply,
  );

  function show() {
    for (const [preset, button] of buttons)
      button.setAttribute('aria-pressed', String(preset === range.preset));
    fromInput.value = range.fromDay;
    toInput.value = range.toDay;
    fromInput.max = localDay(now());
    toInput.max = localDay(now());
    custom.hidden = range.preset !== 'custom';
    note.textContent = range.note ?? '';
  }

  /** @param {URLSearchParams} query */
  function choose(query) {
    range = rangeOf(query, now());
    replaceHashQuery([.../** @type {Array<[string, string]>} */ (rangeEntries(range)), ...otherEntries()]);
    show();
    onChange(range);
  }

  custom.addEventListener('submit', (event) => {
    event.preventDefault();
    choose(new URLSearchParams({ range: 'custom', from: fromInput.value, to: toInput.value }));
  });
  const element = h(
    'div',
    { class: 'range-picker', role: 'group', 'aria-label': 'Time range', 'data-testid': 'range-picker' },
    ...Object.entries(PRESETS).map(([preset, name]) => {
      const button = h('button', { type: 'button', class: 'ghost', 'data-testid': `range-${preset}` }, name);
      buttons.set(/** @type {Preset} */ (preset), button);
      button.addEventListener('click', () => {
        if (preset !== 'custom') choose(new URLSearchParams({ range: preset }));
        else {
          range = { ...range, preset: 'custom' };
          show();
          fromInput.focus();
        }
      });
      return button;
    }),
    custom,
    note,
  );
  show();
  return {
    element,
    /** The range as of now (presets end at the current time). */
    current: () =>
      range.preset === 'custom' ? range : rangeOf(new URLSearchParams({ range: range.preset }), now()),
    /** The range's entries for the hash, for a view writing its own filters. */
    entries: () => /** @type {Array<[string, string]>} */ (rangeEntries(range)),
  };
}
