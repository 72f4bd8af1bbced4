/** Fleet overview of one gym: a tile per treadmill (status, current session, alerts) and utilisation. */
import { get, seg } from '../api.js';
import { h, icon } from '../dom.js';
import { ago, distance, elapsed, gymName, label, num, STATUS_LABELS } from '../format.js';
import { utilisationPanel } from './utilisation.js';

/**
 * @typedef {{
 *   sessionId: string, startTs: number, direction: 'forward' | 'backward' | 'unknown', speedKmh: number | null,
 *   inclinePct: number | null, hrBpm: number | null, movingS: number, distanceM: number, program: string | null,
 * }} CurrentSession
 * @typedef {{
 *   gymId: string, treadmillId: string, status: 'in_use' | 'idle' | 'offline' | 'fault', lastSeenTs: number | null,
 *   fault: { reason: string, errorCode?: string } | null, odometerKm: number | null, speedKmh: number | null,
 *   session: CurrentSession | null, alerts: { open: number, acknowledged: number, kinds: string[] },
 * }} Treadmill
 */

/** @param {'forward' | 'backward' | 'unknown'} direction */
export const directionBadge = (direction) =>
  h(
    'span',
    { class: `direction ${direction}`, 'data-testid': 'tile-direction' },
    icon(direction, 15),
    label(direction),
  );

/** @param {Treadmill['status']} status */
export const statusPill = (status) =>
  h('span', { class: `pill ${status}`, 'data-testid': 'status' }, STATUS_LABELS[status]);

/** @param {Treadmill} treadmill @param {number} now */
function tile(treadmill, now) {
  const session = treadmill.session;
  const direction = session?.direction ?? 'unknown';
  const moving = treadmill.status === 'in_use' && session;
  const main = moving
    ? h(
        'div',
        { class: 'tile-main' },
        h('span', { class: 'tile-speed', 'data-testid': 'tile-speed' }, num(session.speedKmh ?? 0, 1)),
        h('span', { class: 'tile-unit' }, 'km/h'),
      )
    : h(
        'div',
        { class: 'tile-main' },
        h(
          'span',
          { class: 'tile-speed', style: { fontSize: '20px' }, 'data-testid': 'tile-speed' },
          treadmill.status === 'fault'
            ? label(treadmill.fault?.errorCode ?? treadmill.fault?.reason ?? 'fault')
            : treadmill.status === 'idle'
              ? 'Available'
              : STATUS_LABELS[treadmill.status],
        ),
      );
  const meta = moving
    ? h(
        'div',
        { class: 'tile-meta' },
        directionBadge(direction),
        session.hrBpm === null
          ? null
          : h('span', { class: 'hr', 'data-testid': 'tile-hr' }, icon('heart', 14), num(session.hrBpm)),
      )
    : h(
        'div',
        { class: 'tile-meta muted' },
        treadmill.odometerKm === null ? '' : `${num(treadmill.odometerKm)} km on the belt`,
      );
  const { open, acknowledged } = treadmill.alerts;
  const alertChip =
    open + acknowledged > 0
      ? h(
          'span',
          {
            class: `alert-chip ${open === 0 ? 'acknowledged' : ''}`,
            'data-testid': 'tile-alerts',
            'data-open': open,
            title: treadmill.alerts.kinds.map(label).join(', '),
          },
          icon('bell', 12),
          open > 0 ? open : acknowledged,
        )
      : null;
  const foot = h(
    'div',
    { class: 'tile-foot' },
    h(
      'span',
      {},
      moving
        ? `${elapsed(now - session.startTs)} · ${distance(session.distanceM)}`
        : `seen ${ago(treadmill.lastSeenTs, now)}`,
    ),
    alertChip,
  );
  return h(
    'a',
    {
      href: `#/g/${seg(treadmill.gymId)}/treadmills/${seg(treadmill.treadmillId)}`,
      class: `tile status-${treadmill.status} ${moving ? `dir-${direction}` : ''}`,
      'data-testid': 'treadmill-tile',
      'data-gym-id': treadmill.gymId,
      'data-treadmill-id': treadmill.treadmillId,
      'data-status': treadmill.status,
      'data-last-seen': treadmill.lastSeenTs ?? '',
      'data-session-id': session?.sessionId ?? '',
    },
    h(
      'div',
      { class: 'tile-head' },
      h('span', { class: 'tile-id' }, treadmill.treadmillId),
      statusPill(treadmill.status),
    ),
    main,
    meta,
    foot,
  );
}

/** @type {import('../app.js').MountView} */
export async function mountFleet(root, { gym, setAlertCount }) {
  const summary = h('div', { class: 'summary', 'data-testid': 'fleet-summary' });
  const tiles = h('div', { class: 'tiles', 'data-testid': 'tiles' });
  const subtitle = h('span', { class: 'sub' });
  root.append(
    h(
      'div',
      { 'data-testid': 'fleet-view' },
      h('div', { class: 'page-head' }, h('div', {}, h('h1', {}, gymName(gym)), subtitle), summary),
      tiles,
    ),
  );
  const utilisation = utilisationPanel(root, gym);

  async function refresh() {
    const fleet = await get(`/gyms/${seg(gym)}/treadmills`);
    /** @type {Treadmill[]} */
    const treadmills = fleet.treadmills;
    tiles.replaceChildren(
      ...(treadmills.length > 0
        ? treadmills.map((treadmill) => tile(treadmill, fleet.serverTs))
        : [h('div', { class: 'empty' }, 'No treadmill has reported yet.')]),
    );
    /** @type {Record<string, number>} */
    const counts = { in_use: 0, idle: 0, fault: 0, offline: 0 };
    for (const treadmill of treadmills) counts[treadmill.status] = (counts[treadmill.status] ?? 0) + 1;
    summary.replaceChildren(
      ...Object.entries(counts)
        .filter(([status, count]) => count > 0 || status === 'in_use')
        .map(([status, count]) =>
          h(
            'span',
            { class: `pill ${status}`, 'data-testid': `count-${status}` },
            `${count} ${STATUS_LABELS[/** @type {Treadmill['status']} */ (status)].toLowerCase()}`,
          ),
        ),
    );
    const openAlerts = treadmills.reduce((sum, treadmill) => sum + treadmill.alerts.open, 0);
    subtitle.textContent = `${treadmills.length} treadmills · ${openAlerts} open alert${openAlerts === 1 ? '' : 's'}`;
    setAlertCount(openAlerts);
    await utilisation.refresh();
  }

  await refresh();
  return { refresh, unmount: utilisation.destroy };
}
