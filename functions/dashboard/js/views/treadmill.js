/**
 * One treadmill: live (machine facts, the current session with charts, its open alerts) and its history over
 * a time range (range-picker.js): past sessions, motor temperature and belt hours by hour, alert history. The
 * live part polls and is patched in place (dom.js), so focus stays; the history reloads on a new range and
 * once a minute, since it changes slowly.
 */
import { get, seg } from '../api.js';
import { CHART_COLORS, timelineCharts, trendChart } from '../charts.js';
import { h, patch, reconcile } from '../dom.js';
import { ago, alertMessage, dateTime, distance, duration, label, num } from '../format.js';
import { rangePicker } from '../range-picker.js';
import { alertCard } from './alerts.js';
import { directionBadge, statusPill } from './fleet.js';

/** History is re-read at most this often while the page is open. */
const HISTORY_EVERY_MS = 60_000;
/** Past sessions and alerts shown per page of the history. */
const HISTORY_PAGE = 50;

/**
 * @typedef {{ hour: string, ts: number, lastTs: number, motorTempC: number | null, maxMotorTempC: number | null,
 *   beltHours: number | null, odometerKm: number | null }} StatusHour
 * @typedef {import('./sessions.js').SessionItem} SessionItem
 * @typedef {import('./alerts.js').Alert} Alert
 */

/**
 * A trend's text alternative: its range and span, in the dashboard's formats.
 * @param {string} title @param {string} unit @param {number} digits @param {number[]} ts @param {Array<number | null>} values
 */
function trendSummary(title, unit, digits, ts, values) {
  const present = values.filter(/** @returns {v is number} */ (v) => v !== null);
  const first = ts[0];
  const last = ts.at(-1);
  if (present.length === 0 || first === undefined || last === undefined)
    return `${title}: no readings in this range.`;
  const value = (/** @type {number} */ v) => `${num(v, digits)} ${unit}`;
  return `${title} ${value(Math.min(...present))} to ${value(Math.max(...present))}, ${present.length} hour${present.length === 1 ? '' : 's'} with readings from ${dateTime(first)} to ${dateTime(last)}.`;
}

/** @type {import('../app.js').MountView} */
export async function mountTreadmill(root, { gym }, { treadmillId = '' }) {
  const headline = h('div', { class: 'page-head' });
  const facts = h('dl', { class: 'facts', 'data-testid': 'machine-facts' });
  const live = h('div', { class: 'kpis', 'data-testid': 'live-session' });
  const chartsBox = h('div', {});
  const noSession = h(
    'div',
    { class: 'empty', 'data-testid': 'no-session' },
    'Nobody is walking on this treadmill right now.',
  );
  const alertsList = h('div', { class: 'alerts', 'data-testid': 'treadmill-alerts' });
  const pastBody = h('tbody', {});
  const pastLink = h('a', { 'data-testid': 'past-sessions-all' }, 'All in Sessions');
  const pastNote = h('span', { class: 'sub' });
  const temperatureBox = h('div', { class: 'chart', 'data-testid': 'chart-motor-temp' });
  const temperatureSummary = h('p', { class: 'chart-summary', 'data-testid': 'chart-motor-temp-summary' });
  const beltBox = h('div', { class: 'chart', 'data-testid': 'chart-belt-hours' });
  const beltSummary = h('p', { class: 'chart-summary', 'data-testid': 'chart-belt-hours-summary' });
  const alertHistory = h('tbody', {});
  const alertMore = h(
    'button',
    { type: 'button', class: 'ghost', 'data-testid': 'alert-history-more' },
    'Older alerts',
  );
  let serverNow = Date.now();
  let historyAt = 0;
  const picker = rangePicker({
    now: () => serverNow,
    onChange: () => {
      loadHistory().catch(showHistoryError);
    },
  });
  const historyError = h('div', { class: 'sub', role: 'status', 'data-testid': 'history-error' });
  const showHistoryError = (/** @type {unknown} */ error) => {
    historyError.textContent = `History not loaded: ${error instanceof Error ? error.message : String(error)}`;
  };

  root.append(
    h(
      'div',
      { 'data-testid': 'treadmill-view', class: 'stack' },
      h('div', {}, h('a', { class: 'back', href: `#/g/${seg(gym)}/fleet` }, '← Fleet'), headline),
      h('section', { class: 'card' }, h('h2', {}, 'Machine'), facts),
      h('section', { class: 'card' }, h('h2', {}, 'Current session'), live, noSession, chartsBox),
      h('section', {}, h('h2', { class: 'muted', style: { fontSize: '15px' } }, 'Open alerts'), alertsList),
      h(
        'section',
        { class: 'card', 'data-testid': 'treadmill-history', 'aria-labelledby': 'history-title' },
        h('h2', { id: 'history-title' }, 'History'),
        picker.element,
        historyError,
        h('h3', {}, 'Past sessions'),
        h(
          'table',
          { class: 'list', 'data-testid': 'past-sessions' },
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              ...['Started', 'Program', 'Duration', 'Distance', 'Backward'].map((name) => h('th', {}, name)),
            ),
          ),
          pastBody,
        ),
        h('div', { class: 'list-foot' }, pastNote, pastLink),
        h('h3', {}, 'Motor temperature (°C, hottest reading each hour)'),
        temperatureBox,
        temperatureSummary,
        h('h3', {}, 'Belt hours (h)'),
        beltBox,
        beltSummary,
        h('h3', {}, 'Alert history'),
        h(
          'table',
          { class: 'list', 'data-testid': 'alert-history' },
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              ...['First seen', 'Alert', 'Severity', 'Status', 'Message'].map((name) => h('th', {}, name)),
            ),
          ),
          alertHistory,
        ),
        h('div', { class: 'list-foot' }, alertMore),
      ),
    ),
  );
  const charts = timelineCharts(chartsBox);
  const temperature = trendChart(temperatureBox, {
    id: 'motor-temp',
    title: 'Motor temperature',
    unit: '°C',
    digits: 1,
    color: CHART_COLORS.heart,
    height: 170,
  });
  const belt = trendChart(beltBox, {
    id: 'belt-hours',
    title: 'Belt hours',
    unit: 'h',
    digits: 1,
    color: CHART_COLORS.speed,
    height: 150,
  });

  const kpi = (
    /** @type {string} */ name,
    /** @type {Node | string} */ value,
    /** @type {string} */ testId,
  ) =>
    h(
      'div',
      { class: 'kpi' },
      h('div', { class: 'label' }, name),
      h('div', { class: 'value', 'data-testid': testId }, value),
    );
  const fact = (/** @type {string} */ name, /** @type {string} */ value) =>
    h('div', {}, h('dt', {}, name), h('dd', {}, value));

  /** @param {SessionItem} session */
  const pastRow = (session) => {
    const href = `#/g/${seg(gym)}/sessions/${seg(session.sessionId)}`;
    const known = (session.forwardS ?? 0) + (session.backwardS ?? 0);
    return h(
      'tr',
      { 'data-key': session.sessionId, 'data-testid': 'past-session', 'data-session-id': session.sessionId },
      h('td', {}, h('a', { href }, dateTime(session.startTs))),
      h('td', {}, session.program ? label(session.program) : '–'),
      h(
        'td',
        {},
        session.status === 'active'
          ? h('span', { class: 'pill in_use' }, 'live')
          : duration(session.durationS ?? 0),
      ),
      h('td', {}, distance(session.distanceM)),
      h('td', {}, known > 0 ? `${num(((session.backwardS ?? 0) / known) * 100)}%` : '–'),
    );
  };

  /** @param {Alert} alert */
  const alertRow = (alert) =>
    h(
      'tr',
      {
        'data-key': alert.alertId,
        'data-testid': 'alert-history-item',
        'data-alert-id': alert.alertId,
        'data-status': alert.status,
      },
      h('td', {}, dateTime(alert.firstSeenTs)),
      h('td', {}, label(alert.kind)),
      h('td', {}, h('span', { class: `severity ${alert.severity}` }, label(alert.severity))),
      h('td', {}, label(alert.status)),
      h('td', {}, alertMessage(alert)),
    );

  /** @type {Alert[]} */
  let alertsShown = [];
  /** @type {string | null} */
  let alertCursor = null;

  /** Alert pages (the alerts route of the treadmill, newest change first) until one reaches before the range. */
  async function alertPage(/** @type {string | null} */ cursor) {
    const range = picker.current();
    const page = await get(
      `/gyms/${seg(gym)}/treadmills/${seg(treadmillId)}/alerts?limit=${HISTORY_PAGE}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
    );
    /** @type {Alert[]} */
    const alerts = page.alerts;
    // Newest change first: once a page's oldest change is before the range, later pages are older still.
    const oldest = alerts.at(-1)?.updatedTs ?? 0;
    return {
      alerts: alerts.filter((alert) => alert.lastSeenTs >= range.from && alert.firstSeenTs <= range.to),
      cursor: oldest < range.from ? null : page.nextCursor,
    };
  }

  function renderAlerts() {
    reconcile(
      alertHistory,
      alertsShown.length > 0
        ? alertsShown.map(alertRow)
        : [
            h(
              'tr',
              { 'data-key': 'empty' },
              h('td', { colspan: 5, class: 'empty' }, 'No alerts in this range.'),
            ),
          ],
    );
    alertMore.hidden = alertCursor === null;
  }

  async function loadHistory() {
    historyAt = Date.now();
    const range = picker.current();
    const to = range.preset === 'custom' ? `&to=${range.to}` : '';
    // The alert history is its own read: if it fails, sessions and trends still show (and the other way round).
    const alerts = alertPage(null).then((page) => {
      alertsShown = page.alerts;
      alertCursor = page.cursor;
      renderAlerts();
    }, showHistoryError);
    const [sessions, status] = await Promise.all([
      get(
        `/gyms/${seg(gym)}/sessions?treadmillId=${seg(treadmillId)}&from=${range.from}${to}&limit=${HISTORY_PAGE}`,
      ),
      get(
        `/gyms/${seg(gym)}/treadmills/${seg(treadmillId)}/status-history?from=${range.from}&to=${range.to}`,
      ),
    ]);
    historyError.textContent = '';
    /** @type {SessionItem[]} */
    const past = sessions.sessions;
    reconcile(
      pastBody,
      past.length > 0
        ? past.map(pastRow)
        : [
            h(
              'tr',
              { 'data-key': 'empty' },
              h('td', { colspan: 5, class: 'empty' }, 'No sessions in this range.'),
            ),
          ],
    );
    pastNote.textContent = `${past.length}${sessions.nextCursor ? '+' : ''} session${past.length === 1 ? '' : 's'}`;
    pastLink.setAttribute(
      'href',
      `#/g/${seg(gym)}/sessions?${new URLSearchParams([...picker.entries(), ['treadmillId', treadmillId]])}`,
    );
    /** @type {StatusHour[]} */
    const hours = status.hours;
    const ts = hours.map((hour) => hour.ts);
    const hottest = hours.map((hour) => hour.maxMotorTempC ?? hour.motorTempC);
    const beltHours = hours.map((hour) => hour.beltHours);
    temperature.update(ts, hottest, range);
    belt.update(ts, beltHours, range);
    temperatureSummary.textContent = trendSummary('Motor temperature', '°C', 1, ts, hottest);
    beltSummary.textContent = trendSummary('Belt hours', 'h', 1, ts, beltHours);
    await alerts;
  }

  alertMore.addEventListener('click', async () => {
    if (alertCursor === null) return;
    alertMore.disabled = true;
    try {
      const page = await alertPage(alertCursor);
      alertsShown = [...alertsShown, ...page.alerts];
      alertCursor = page.cursor;
      renderAlerts();
    } catch (error) {
      showHistoryError(error);
    } finally {
      alertMore.disabled = false;
    }
  });

  async function refresh() {
    const data = await get(`/gyms/${seg(gym)}/treadmills/${seg(treadmillId)}`);
    const { treadmill, timeline, alerts } = data;
    serverNow = data.serverTs;
    const session = treadmill.session;
    patch(
      headline,
      h(
        'div',
        { class: 'page-head' },
        h('h1', {}, treadmill.treadmillId),
        h(
          'div',
          { class: 'summary' },
          statusPill(treadmill.status),
          h('span', { class: 'sub' }, `seen ${ago(treadmill.lastSeenTs, serverNow)}`),
        ),
      ),
    );
    patch(
      facts,
      h(
        'dl',
        { class: 'facts', 'data-testid': 'machine-facts' },
        fact('Odometer', treadmill.odometerKm === null ? '–' : `${num(treadmill.odometerKm, 1)} km`),
        fact('Belt hours', treadmill.beltHours === null ? '–' : `${num(treadmill.beltHours, 1)} h`),
        fact('Motor', treadmill.motorTempC === null ? '–' : `${num(treadmill.motorTempC, 1)} °C`),
        fact('Firmware', treadmill.firmware ?? '–'),
        fact('Fault', treadmill.fault ? label(treadmill.fault.errorCode ?? treadmill.fault.reason) : 'none'),
      ),
    );
    noSession.hidden = session !== null;
    chartsBox.hidden = session === null;
    live.hidden = session === null;
    if (session) {
      patch(
        live,
        h(
          'div',
          { class: 'kpis', 'data-testid': 'live-session' },
          kpi('Speed', h('span', {}, num(session.speedKmh, 1), h('small', {}, 'km/h')), 'live-speed'),
          kpi('Incline', h('span', {}, num(session.inclinePct, 1), h('small', {}, '%')), 'live-incline'),
          kpi('Heart rate', h('span', {}, num(session.hrBpm), h('small', {}, 'bpm')), 'live-hr'),
          h(
            'div',
            { class: 'kpi' },
            h('div', { class: 'label' }, 'Direction'),
            h('div', { class: 'value', style: { fontSize: '20px' } }, directionBadge(session.direction)),
          ),
          kpi('Time', duration((serverNow - session.startTs) / 1000), 'live-duration'),
          kpi('Distance', distance(session.distanceM), 'live-distance'),
        ),
      );
      live.hidden = false;
      charts.update(timeline, session.startTs);
    }
    reconcile(
      alertsList,
      alerts.length > 0
        ? alerts.map((/** @type {Alert} */ alert) => {
            const card = alertCard(alert, serverNow, refresh);
            card.setAttribute('data-key', alert.alertId);
            return card;
          })
        : [h('div', { class: 'card empty', 'data-key': 'none' }, 'No open alerts.')],
    );
    if (Date.now() - historyAt >= HISTORY_EVERY_MS) await loadHistory().catch(showHistoryError);
  }

  await refresh();
  return {
    refresh,
    unmount: () => {
      charts.destroy();
      temperature.destroy();
      belt.destroy();
    },
  };
}
