/**
 * Alerts of a gym: open, acknowledged or all, newest first, with an acknowledge button on open ones. "All" is the
 * whole history, which the API hands out a page at a time (docs/architecture.md section 7.3): "Show older" asks
 * for the next page, and a refresh reads again as many pages as are shown.
 */
import { get, post, seg } from '../api.js';
import { h } from '../dom.js';
import { ago, dateTime, label } from '../format.js';

/**
 * @typedef {{
 *   alertId: string, gymId: string, treadmillId: string, kind: string, severity: 'info' | 'warning' | 'critical',
 *   status: 'open' | 'acknowledged' | 'resolved', message: string, count: number, firstSeenTs: number,
 *   lastSeenTs: number, updatedTs: number, acknowledgedBy?: string, acknowledgedTs?: number, resolvedBy?: string,
 *   resolvedTs?: number,
 * }} Alert
 */

/**
 * One alert as a card; `onAcknowledged` runs after a successful ack.
 * @param {Alert} alert
 * @param {number} now
 * @param {() => Promise<void>} onAcknowledged
 */
export function alertCard(alert, now, onAcknowledged) {
  const ack = h(
    'button',
    {
      type: 'button',
      'data-testid': 'alert-ack',
      onclick: async () => {
        ack.disabled = true;
        ack.textContent = 'Acknowledging…';
        try {
          await post(`/gyms/${seg(alert.gymId)}/alerts/${seg(alert.treadmillId)}/${seg(alert.kind)}/ack`);
          await onAcknowledged();
        } catch (error) {
          ack.disabled = false;
          ack.textContent = 'Acknowledge';
          ack.title = error instanceof Error ? error.message : String(error);
        }
      },
    },
    'Acknowledge',
  );
  const handled =
    alert.status === 'acknowledged'
      ? `Acknowledged by ${alert.acknowledgedBy ?? '?'} ${ago(alert.acknowledgedTs ?? null, now)}`
      : alert.status === 'resolved'
        ? `Resolved${alert.resolvedBy === 'auto' ? ' by itself' : ` by ${alert.resolvedBy ?? '?'}`} ${ago(alert.resolvedTs ?? null, now)}`
        : null;
  return h(
    'article',
    {
      class: `alert ${alert.severity} status-${alert.status}`,
      'data-testid': 'alert-item',
      'data-alert-id': alert.alertId,
      'data-status': alert.status,
      'data-kind': alert.kind,
      'data-treadmill-id': alert.treadmillId,
    },
    h('div', { class: 'stripe' }),
    h(
      'div',
      {},
      h(
        'div',
        { class: 'title' },
        h('a', { href: `#/g/${seg(alert.gymId)}/treadmills/${seg(alert.treadmillId)}` }, alert.treadmillId),
        h('span', {}, label(alert.kind)),
        h('span', { class: `sev ${alert.severity}` }, alert.severity),
        alert.count > 1 ? h('span', { class: 'muted' }, `×${alert.count}`) : null,
      ),
      h('div', { class: 'message' }, alert.message),
      h(
        'div',
        { class: 'when' },
        `First ${dateTime(alert.firstSeenTs)} · last ${ago(alert.lastSeenTs, now)}`,
        handled ? ` · ${handled}` : '',
      ),
    ),
    h(
      'div',
      { class: 'actions' },
      alert.status === 'open'
        ? ack
        : h(
            'span',
            { class: `pill ${alert.status === 'resolved' ? 'idle' : 'offline'}` },
            label(alert.status),
          ),
    ),
  );
}

const FILTERS = /** @type {const} */ (['open', 'acknowledged', 'all']);
/** Alerts per page of "All". */
const PAGE = 50;

/** @type {import('../app.js').MountView} */
export async function mountAlerts(root, { gym, setAlertCount }) {
  /** @type {(typeof FILTERS)[number]} */
  let filter = 'open';
  /** Pages of "All" shown, so that a refresh keeps what was read. */
  let pages = 1;
  const list = h('div', { class: 'alerts', 'data-testid': 'alerts-list' });
  const tabs = h('div', { class: 'segmented', role: 'tablist' });
  const older = h('div', { class: 'alerts-older' });

  function renderTabs() {
    tabs.replaceChildren(
      ...FILTERS.map((name) =>
        h(
          'button',
          {
            type: 'button',
            role: 'tab',
            class: name === filter ? 'active' : '',
            'aria-selected': name === filter ? 'true' : 'false',
            'data-testid': `alerts-tab-${name}`,
            onclick: async () => {
              filter = name;
              pages = 1;
              renderTabs();
              await refresh();
            },
          },
          label(name),
        ),
      ),
    );
  }

  /**
   * The first `count` pages of a status (open and acknowledged are always one), and the cursor after them.
   * @param {(typeof FILTERS)[number]} status
   * @param {number} count
   * @returns {Promise<{ alerts: Alert[], nextCursor: string | null }>}
   */
  async function readPages(status, count) {
    /** @type {Alert[]} */
    const alerts = [];
    /** @type {string | null} */
    let cursor = null;
    for (let page = 0; page < count; page++) {
      const after = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
      const data = await get(`/gyms/${seg(gym)}/alerts?status=${status}&limit=${PAGE}${after}`);
      alerts.push(...data.alerts);
      cursor = data.nextCursor ?? null;
      if (cursor === null) break;
    }
    return { alerts, nextCursor: cursor };
  }

  async function refresh() {
    const wanted = filter;
    const [data, open] = await Promise.all([
      readPages(wanted, wanted === 'all' ? pages : 1),
      wanted === 'open' ? null : get(`/gyms/${seg(gym)}/alerts?status=open`),
    ]);
    if (wanted !== filter) return;
    const alerts = data.alerts;
    const now = Date.now();
    older.replaceChildren(
      ...(data.nextCursor === null
        ? []
        : [
            h(
              'button',
              {
                type: 'button',
                class: 'ghost',
                'data-testid': 'alerts-older',
                onclick: async () => {
                  pages++;
                  await refresh();
                },
              },
              'Show older',
            ),
          ]),
    );
    list.replaceChildren(
      ...(alerts.length > 0
        ? alerts.map((alert) => alertCard(alert, now, refresh))
        : [
            h(
              'div',
              { class: 'card empty', 'data-testid': 'alerts-empty' },
              filter === 'open' ? 'Nothing needs attention.' : 'No alerts.',
            ),
          ]),
    );
    setAlertCount((open ?? data).alerts.length);
  }

  renderTabs();
  root.append(
    h(
      'div',
      { 'data-testid': 'alerts-view' },
      h('div', { class: 'page-head' }, h('h1', {}, 'Alerts'), tabs),
      list,
      older,
    ),
  );
  await refresh();
  return { refresh };
}
