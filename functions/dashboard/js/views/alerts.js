/**
 * Alerts of a gym: open, acknowledged or all, filtered and sorted by severity (shown as text, not colour alone),
 * several acknowledged in one action, and snoozed per alert or per treadmill and kind (docs/architecture.md
 * section 7.3). "All" is the whole history, which the API hands out a page at a time (section 7.3): "Show
 * older" asks for the next page, and a refresh reads again as many pages as are shown.
 *
 * The list is updated in place (dom.js `reconcile`), so a refresh keeps focus and what is selected.
 */
import { ApiFailure, get, post, seg } from '../api.js';
import { announce, h, reconcile } from '../dom.js';
import { ago, alertMessage, clock, dateTime, label } from '../format.js';

/**
 * @typedef {{
 *   alertId: string, gymId: string, treadmillId: string, kind: string, severity: 'info' | 'warning' | 'critical',
 *   status: 'open' | 'acknowledged' | 'resolved', message: string, count: number, firstSeenTs: number,
 *   lastSeenTs: number, updatedTs: number, acknowledgedBy?: string, acknowledgedTs?: number, resolvedBy?: string,
 *   resolvedTs?: number, snoozedUntil?: number, snoozeScope?: 'alert' | 'kind', notifiedTs?: number,
 *   detail?: Record<string, string | number | boolean>,
 * }} Alert
 */

const SEVERITY_RANK = { critical: 2, warning: 1, info: 0 };
const SEVERITY_TEXT = { critical: 'Critical', warning: 'Warning', info: 'Info' };

/** Snooze choices: minutes and scope (`kind`: this treadmill's later alerts of the kind too). */
const SNOOZES = [
  { value: '60:alert', text: '1 hour' },
  { value: '240:alert', text: '4 hours' },
  { value: '1440:alert', text: '24 hours' },
  { value: '60:kind', text: '1 hour, this kind on this treadmill' },
  { value: '1440:kind', text: '24 hours, this kind on this treadmill' },
];

/** `treadmillId:kind`, as the bulk acknowledge takes an alert. @param {Alert} alert */
const refOf = (alert) => `${alert.treadmillId}:${alert.kind}`;

/**
 * One alert as a card (keyed by its id for in-place updates); `onChanged` runs after an action succeeded.
 * Listeners only use what the key fixes (gym, treadmill, kind), as dom.js asks.
 * @param {Alert} alert
 * @param {number} now
 * @param {() => Promise<void>} onChanged
 * @param {{ selected?: boolean, onSelect?: (ref: string, selected: boolean) => void }} [selection]
 */
export function alertCard(alert, now, onChanged, selection = {}) {
  const base = `/gyms/${seg(alert.gymId)}/alerts/${seg(alert.treadmillId)}/${seg(alert.kind)}`;
  const name = `${alert.treadmillId} ${label(alert.kind)}`;
  /**
   * @param {HTMLButtonElement | HTMLSelectElement} control
   * @param {string} path
   */
  const act = async (control, path) => {
    control.disabled = true;
    try {
      await post(path);
      await onChanged();
    } catch (error) {
      control.title = error instanceof Error ? error.message : String(error);
    } finally {
      control.disabled = false;
    }
  };
  const ack = h(
    'button',
    {
      type: 'button',
      'data-key': 'ack',
      'data-testid': 'alert-ack',
      'aria-label': `Acknowledge ${name}`,
      onclick: () => act(ack, `${base}/ack`),
    },
    'Acknowledge',
  );
  const snoozed = alert.snoozedUntil !== undefined && alert.snoozedUntil > now;
  const active = alert.status !== 'resolved';
  const snooze = h(
    'select',
    {
      'data-key': 'snooze',
      'data-testid': 'alert-snooze',
      'aria-label': `Snooze notifications of ${name}`,
      onchange: async () => {
        const [minutes, scope] = snooze.value.split(':');
        snooze.value = '';
        await act(snooze, `${base}/snooze?minutes=${minutes}&scope=${scope}`);
      },
    },
    h('option', { value: '' }, 'Snooze…'),
    ...SNOOZES.map((choice) => h('option', { value: choice.value }, choice.text)),
  );
  const unsnooze = h(
    'button',
    {
      type: 'button',
      class: 'ghost',
      'data-key': 'unsnooze',
      'data-testid': 'alert-unsnooze',
      'aria-label': `Unsnooze ${name}`,
      onclick: () => act(unsnooze, `${base}/snooze?minutes=0`),
    },
    'Unsnooze',
  );
  const handled =
    alert.status === 'acknowledged'
      ? `Acknowledged by ${alert.acknowledgedBy ?? '?'} ${ago(alert.acknowledgedTs ?? null, now)}`
      : alert.status === 'resolved'
        ? `Resolved${alert.resolvedBy === 'auto' ? ' by itself' : ` by ${alert.resolvedBy ?? '?'}`} ${ago(alert.resolvedTs ?? null, now)}`
        : null;
  const snoozeText =
    snoozed && alert.snoozedUntil !== undefined
      ? `Snoozed until ${clock(alert.snoozedUntil)}${alert.snoozeScope === 'kind' ? ' (this kind on this treadmill)' : ''}`
      : null;
  return h(
    'article',
    {
      class: `alert ${alert.severity} status-${alert.status}`,
      'data-key': alert.alertId,
      'data-testid': 'alert-item',
      'data-alert-id': alert.alertId,
      'data-status': alert.status,
      'data-severity': alert.severity,
      'data-snoozed': snoozed ? 'true' : 'false',
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
        selection.onSelect && alert.status === 'open'
          ? h('input', {
              type: 'checkbox',
              'data-select': refOf(alert),
              'data-testid': 'alert-select',
              'aria-label': `Select ${name}`,
              checked: selection.selected === true,
              onchange: (/** @type {Event} */ event) =>
                selection.onSelect?.(
                  refOf(alert),
                  /** @type {HTMLInputElement} */ (event.currentTarget).checked,
                ),
            })
          : null,
        h(
          'span',
          { class: `sev ${alert.severity}`, 'data-testid': 'alert-severity' },
          SEVERITY_TEXT[alert.severity],
        ),
        h('a', { href: `#/g/${seg(alert.gymId)}/treadmills/${seg(alert.treadmillId)}` }, alert.treadmillId),
        h('span', {}, label(alert.kind)),
        alert.count > 1 ? h('span', { class: 'muted' }, `×${alert.count}`) : null,
      ),
      h('div', { class: 'message' }, alertMessage(alert)),
      h(
        'div',
        { class: 'when' },
        `First ${dateTime(alert.firstSeenTs)} · last ${ago(alert.lastSeenTs, now)}`,
        handled ? ` · ${handled}` : '',
        snoozeText ? ` · ${snoozeText}` : '',
      ),
    ),
    h(
      'div',
      { class: 'actions' },
      alert.status === 'open'
        ? ack
        : h(
            'span',
            { class: `pill ${alert.status === 'resolved' ? 'idle' : 'offline'}`, 'data-key': 'status' },
            label(alert.status),
          ),
      active ? (snoozed ? unsnooze : snooze) : null,
    ),
  );
}

const FILTERS = /** @type {const} */ (['open', 'acknowledged', 'all']);
const SEVERITIES = /** @type {const} */ (['all', 'critical', 'warning', 'info']);
/** Alerts per page of "All". */
const PAGE = 50;

/**
 * @param {string} text
 * @param {string} testId
 * @param {ReadonlyArray<{ value: string, text: string }>} options
 * @param {(value: string) => void} onChange
 */
function labelledSelect(text, testId, options, onChange) {
  const select = h(
    'select',
    { 'data-testid': testId, onchange: () => onChange(select.value) },
    ...options.map((option) => h('option', { value: option.value }, option.text)),
  );
  return h('label', { class: 'alerts-control' }, `${text} `, select);
}

/** The thresholds an operator sets for their gym, as the API names them, with their units. */
const THRESHOLD_FIELDS = [
  { name: 'motorTempMaxC', text: 'Motor temperature alert above', unit: '°C' },
  { name: 'offlineAfterMinutes', text: 'Offline after silence of', unit: 'min' },
  { name: 'stumbleAlertCount', text: 'Notify at stumbles in one session', unit: '' },
];

/**
 * The gym's alert thresholds as a form (docs/architecture.md section 7.3): read once when the page opens, not on
 * each refresh, so an edit in progress is never overwritten; the inputs carry the API's bounds, and a refusal
 * shows the API's reasons.
 * @param {string} gym
 */
async function thresholdsPanel(gym) {
  const path = `/gyms/${seg(gym)}/alert-thresholds`;
  const panel = (/** @type {Node[]} */ ...content) =>
    h(
      'details',
      { class: 'card thresholds', 'data-testid': 'thresholds' },
      h('summary', {}, 'Alert thresholds for this gym'),
      ...content,
    );
  /** @type {{ thresholds: Record<string, number>, defaults: Record<string, number>, bounds: Record<string, { min: number, max: number }> }} */
  let data;
  try {
    data = await get(path);
  } catch (error) {
    // The alerts themselves do not depend on it: the page stays, the panel says why it is empty.
    return panel(
      h(
        'p',
        { role: 'status' },
        `Thresholds not loaded: ${error instanceof Error ? error.message : String(error)}`,
      ),
    );
  }
  const status = h('p', { class: 'thresholds-status', role: 'status', 'data-testid': 'thresholds-status' });
  const inputs = THRESHOLD_FIELDS.map((field) => {
    const bounds = data.bounds[field.name] ?? { min: 0, max: 0 };
    const input = h('input', {
      type: 'number',
      name: field.name,
      min: String(bounds.min),
      max: String(bounds.max),
      step: '1',
      required: true,
      value: String(data.thresholds[field.name]),
      'data-testid': `threshold-${field.name}`,
    });
    const hint = `${bounds.min}-${bounds.max}${field.unit ? ` ${field.unit}` : ''}, default ${data.defaults[field.name]}`;
    return {
      field,
      input,
      row: h(
        'label',
        { class: 'threshold' },
        `${field.text} `,
        input,
        h('span', { class: 'hint' }, ` ${hint}`),
      ),
    };
  });
  const form = h(
    'form',
    {
      'data-testid': 'thresholds-form',
      novalidate: true,
      onsubmit: async (/** @type {SubmitEvent} */ event) => {
        event.preventDefault();
        const query = inputs
          .map(({ field, input }) => `${field.name}=${encodeURIComponent(input.value)}`)
          .join('&');
        status.textContent = 'Saving…';
        try {
          const saved = await post(`${path}?${query}`);
          for (const { field, input } of inputs) input.value = String(saved.thresholds[field.name]);
          status.textContent = 'Saved: the rules use these within a minute.';
        } catch (error) {
          const reasons =
            error instanceof ApiFailure && error.reasons.length > 0 ? error.reasons.join('; ') : null;
          status.textContent = `Not saved: ${reasons ?? (error instanceof Error ? error.message : String(error))}`;
        }
      },
    },
    ...inputs.map(({ row }) => row),
    h('button', { type: 'submit', 'data-testid': 'thresholds-save' }, 'Save thresholds'),
    status,
  );
  return panel(form);
}

/** @type {import('../app.js').MountView} */
export async function mountAlerts(root, { gym, setAlertCount }) {
  /** @type {(typeof FILTERS)[number]} */
  let filter = 'open';
  /** @type {(typeof SEVERITIES)[number]} */
  let severity = 'all';
  let bySeverity = true;
  /** Pages of "All" shown, so that a refresh keeps what was read. */
  let pages = 1;
  /** Open alerts selected for the bulk acknowledge, as `treadmillId:kind`. */
  const selected = new Set();
  /** @type {Alert[]} */
  let shown = [];
  const list = h('div', { class: 'alerts', 'data-testid': 'alerts-list' });
  const tabs = h('div', { class: 'segmented', role: 'tablist' });
  const older = h('div', { class: 'alerts-older' });
  const bulkAck = h(
    'button',
    {
      type: 'button',
      'data-testid': 'alerts-ack-selected',
      disabled: true,
      onclick: async () => {
        const refs = [...selected].filter((ref) => shown.some((alert) => refOf(alert) === ref));
        if (refs.length === 0) return;
        bulkAck.disabled = true;
        try {
          const result = await post(
            `/gyms/${seg(gym)}/alerts/ack?alerts=${encodeURIComponent(refs.join(','))}`,
          );
          selected.clear();
          announce(`${result.acknowledged.length} alerts acknowledged`);
        } catch (error) {
          bulkAck.title = error instanceof Error ? error.message : String(error);
        }
        await refresh();
      },
    },
    'Acknowledge selected',
  );
  const selectAll = h('input', {
    type: 'checkbox',
    'data-testid': 'alerts-select-all',
    onchange: () => {
      for (const alert of shown) {
        if (alert.status !== 'open') continue;
        if (selectAll.checked) selected.add(refOf(alert));
        else selected.delete(refOf(alert));
      }
      syncSelection();
    },
  });

  /** Checkboxes and the bulk button follow `selected` (a ticked box keeps its own state otherwise). */
  function syncSelection() {
    for (const box of list.querySelectorAll('input[data-select]')) {
      const input = /** @type {HTMLInputElement} */ (box);
      input.checked = selected.has(input.dataset.select ?? '');
    }
    const openShown = shown.filter((alert) => alert.status === 'open');
    const count = openShown.filter((alert) => selected.has(refOf(alert))).length;
    bulkAck.textContent = count > 0 ? `Acknowledge selected (${count})` : 'Acknowledge selected';
    bulkAck.disabled = count === 0;
    selectAll.checked = openShown.length > 0 && count === openShown.length;
  }

  /** @param {string} ref @param {boolean} on */
  function onSelect(ref, on) {
    if (on) selected.add(ref);
    else selected.delete(ref);
    syncSelection();
  }

  function renderTabs() {
    reconcile(
      tabs,
      FILTERS.map((name) =>
        h(
          'button',
          {
            type: 'button',
            role: 'tab',
            'data-key': name,
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

  /**
   * Newest first as the API gives them, or the most severe first (newest first within a severity).
   * @param {Alert[]} alerts
   */
  const arranged = (alerts) => {
    const kept = severity === 'all' ? alerts : alerts.filter((alert) => alert.severity === severity);
    return bySeverity ? kept.toSorted((a, b) => SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity]) : kept;
  };

  async function refresh() {
    const wanted = filter;
    const [data, open] = await Promise.all([
      readPages(wanted, wanted === 'all' ? pages : 1),
      wanted === 'open' ? null : get(`/gyms/${seg(gym)}/alerts?status=open`),
    ]);
    if (wanted !== filter) return;
    shown = arranged(data.alerts);
    const now = Date.now();
    reconcile(
      older,
      data.nextCursor === null
        ? []
        : [
            h(
              'button',
              {
                type: 'button',
                class: 'ghost',
                'data-key': 'older',
                'data-testid': 'alerts-older',
                onclick: async () => {
                  pages++;
                  await refresh();
                },
              },
              'Show older',
            ),
          ],
    );
    reconcile(
      list,
      shown.length > 0
        ? shown.map((alert) =>
            alertCard(alert, now, refresh, { selected: selected.has(refOf(alert)), onSelect }),
          )
        : [
            h(
              'div',
              { class: 'card empty', 'data-key': 'empty', 'data-testid': 'alerts-empty' },
              filter === 'open' && severity === 'all' ? 'Nothing needs attention.' : 'No alerts.',
            ),
          ],
    );
    syncSelection();
    setAlertCount((open ?? data).alerts.length);
  }

  renderTabs();
  const thresholds = h('div');
  const toolbar = h(
    'div',
    { class: 'alerts-toolbar', 'data-testid': 'alerts-toolbar' },
    h('label', { class: 'alerts-control' }, selectAll, ' Select all open'),
    bulkAck,
    labelledSelect(
      'Severity',
      'alerts-severity',
      SEVERITIES.map((value) => ({ value, text: value === 'all' ? 'All' : SEVERITY_TEXT[value] })),
      async (value) => {
        severity = /** @type {(typeof SEVERITIES)[number]} */ (value);
        await refresh();
      },
    ),
    labelledSelect(
      'Sort',
      'alerts-sort',
      [
        { value: 'severity', text: 'Most severe first' },
        { value: 'newest', text: 'Newest first' },
      ],
      async (value) => {
        bySeverity = value === 'severity';
        await refresh();
      },
    ),
  );
  root.append(
    h(
      'div',
      { 'data-testid': 'alerts-view' },
      h('div', { class: 'page-head' }, h('h1', {}, 'Alerts'), tabs),
      toolbar,
      list,
      older,
      thresholds,
    ),
  );
  // The panel is read beside the list, not before it.
  const [panel] = await Promise.all([thresholdsPanel(gym), refresh()]);
  thresholds.replaceWith(panel);
  return { refresh };
}
