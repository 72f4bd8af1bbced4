/**
 * Fleet overview of one gym: a tile per treadmill (status, current session, alerts) and utilisation. Each poll
 * patches the tiles in place (keyed by treadmill), so a focused tile keeps its focus, and announces only
 * what changed (a treadmill going offline, new open alerts) in the page's status line.
 */
import { get, seg } from '../api.js';
import { announce, h, icon, reconcile } from '../dom.js';
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
        h('span', { class: 'tile-unit', 'data-testid': 'tile-speed-unit' }, 'km/h'),
      )
    : h(
        'div',
        { class: 'tile-main' },
        h(
          'span',
          { class: 'tile-speed tile-state', 'data-testid': 'tile-speed' },
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
          : h(
              'span',
              { class: 'hr', 'data-testid': 'tile-hr' },
              icon('heart', 14),
              num(session.hrBpm),
              h('span', { class: 'tile-unit' }, 'bpm'),
            ),
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
          // The chip's meaning for a screen reader (the bell and colour say it to the eye).
          h(
            'span',
            { class: 'visually-hidden' },
            `${open > 0 ? ' open' : ' acknowledged'} alert${(open > 0 ? open : acknowledged) === 1 ? '' : 's'}: ${treadmill.alerts.kinds.map(label).join(', ')}`,
          ),
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
      'data-key': treadmill.treadmillId,
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

/**
 * What changed between two polls, in a few words for the status line ("tm-03 went offline").
 * @param {Map<string, Treadmill['status']>} before
 * @param {Treadmill[]} treadmills
 * @param {number} openBefore
 * @param {number} openNow
 */
export function fleetChanges(before, treadmills, openBefore, openNow) {
  const wording = { in_use: 'is in use', idle: 'is idle', offline: 'went offline', fault: 'reports a fault' };
  const changes = treadmills
    .filter((treadmill) => {
      const previous = before.get(treadmill.treadmillId);
      return previous !== undefined && previous !== treadmill.status;
    })
    .map((treadmill) => `${treadmill.treadmillId} ${wording[treadmill.status]}`);
  if (openNow > openBefore)
    changes.push(`${openNow - openBefore} new open alert${openNow - openBefore === 1 ? '' : 's'}`);
  return changes.join('; ');
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
  /** @type {Map<string, Treadmill['status']> | null} null before the first poll: nothing to compare with */
  let shownStatus = null;
  let shownOpen = 0;

  async function refresh() {
    const fleet = await get(`/gyms/${seg(gym)}/treadmills`);
    /** @type {Treadmill[]} */
    const treadmills = fleet.treadmills;
    reconcile(
      tiles,
      treadmills.length > 0
        ? treadmills.map((treadmill) => tile(treadmill, fleet.serverTs))
        : [h('div', { class: 'empty', 'data-key': 'empty' }, 'No treadmill has reported yet.')],
    );
    /** @type {Record<string, number>} */
    const counts = { in_use: 0, idle: 0, fault: 0, offline: 0 };
    for (const treadmill of treadmills) counts[treadmill.status] = (counts[treadmill.status] ?? 0) + 1;
    reconcile(
      summary,
      Object.entries(counts)
        .filter(([status, count]) => count > 0 || status === 'in_use')
        .map(([status, count]) =>
          h(
            'span',
            { class: `pill ${status}`, 'data-testid': `count-${status}`, 'data-key': status },
            `${count} ${STATUS_LABELS[/** @type {Treadmill['status']} */ (status)].toLowerCase()}`,
          ),
        ),
    );
    const openAlerts = treadmills.reduce((sum, treadmill) => sum + treadmill.alerts.open, 0);
    subtitle.textContent = `${treadmills.length} treadmills · ${openAlerts} open alert${openAlerts === 1 ? '' : 's'}`;
    if (shownStatus) announce(fleetChanges(shownStatus, treadmills, shownOpen, openAlerts));
    shownStatus = new Map(treadmills.map((treadmill) => [treadmill.treadmillId, treadmill.status]));
    shownOpen = openAlerts;
    setAlertCount(openAlerts);
    await utilisation.refresh();
  }

  await refresh();
  return { refresh, unmount: utilisation.destroy };
}
