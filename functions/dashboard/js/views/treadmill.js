/** One treadmill, live: machine facts, the current session with charts, and its alerts. */
import { get, seg } from '../api.js';
import { timelineCharts } from '../charts.js';
import { h } from '../dom.js';
import { ago, distance, duration, label, num } from '../format.js';
import { alertCard } from './alerts.js';
import { directionBadge, statusPill } from './fleet.js';

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
  root.append(
    h(
      'div',
      { 'data-testid': 'treadmill-view', class: 'stack' },
      h('div', {}, h('a', { class: 'back', href: `#/g/${seg(gym)}/fleet` }, '← Fleet'), headline),
      h('section', { class: 'card' }, h('h2', {}, 'Machine'), facts),
      h('section', { class: 'card' }, h('h2', {}, 'Current session'), live, noSession, chartsBox),
      h('section', {}, h('h2', { class: 'muted', style: { fontSize: '15px' } }, 'Alerts'), alertsList),
    ),
  );
  const charts = timelineCharts(chartsBox);

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

  async function refresh() {
    const data = await get(`/gyms/${seg(gym)}/treadmills/${seg(treadmillId)}`);
    const { treadmill, timeline, alerts, serverTs } = data;
    const session = treadmill.session;
    headline.replaceChildren(
      h('h1', {}, treadmill.treadmillId),
      h(
        'div',
        { class: 'summary' },
        statusPill(treadmill.status),
        h('span', { class: 'sub' }, `seen ${ago(treadmill.lastSeenTs, serverTs)}`),
      ),
    );
    facts.replaceChildren(
      fact('Odometer', treadmill.odometerKm === null ? '–' : `${num(treadmill.odometerKm, 1)} km`),
      fact('Belt hours', treadmill.beltHours === null ? '–' : `${num(treadmill.beltHours, 1)} h`),
      fact('Motor', treadmill.motorTempC === null ? '–' : `${num(treadmill.motorTempC, 1)} °C`),
      fact('Firmware', treadmill.firmware ?? '–'),
      fact('Fault', treadmill.fault ? label(treadmill.fault.errorCode ?? treadmill.fault.reason) : 'none'),
    );
    noSession.hidden = session !== null;
    chartsBox.hidden = session === null;
    live.hidden = session === null;
    if (session) {
      live.replaceChildren(
        kpi('Speed', h('span', {}, num(session.speedKmh, 1), h('small', {}, 'km/h')), 'live-speed'),
        kpi('Incline', h('span', {}, num(session.inclinePct, 1), h('small', {}, '%')), 'live-incline'),
        kpi('Heart rate', h('span', {}, num(session.hrBpm), h('small', {}, 'bpm')), 'live-hr'),
        h(
          'div',
          { class: 'kpi' },
          h('div', { class: 'label' }, 'Direction'),
          h('div', { class: 'value', style: { fontSize: '20px' } }, directionBadge(session.direction)),
        ),
        kpi('Time', duration((serverTs - session.startTs) / 1000), 'live-duration'),
        kpi('Distance', distance(session.distanceM), 'live-distance'),
      );
      charts.update(timeline, session.startTs);
    }
    alertsList.replaceChildren(
      ...(alerts.length > 0
        ? alerts.map((/** @type {import('./alerts.js').Alert} */ alert) =>
            alertCard(alert, serverTs, refresh),
          )
        : [h('div', { class: 'card empty' }, 'No open alerts.')]),
    );
  }

  await refresh();
  return { refresh, unmount: charts.destroy };
}
