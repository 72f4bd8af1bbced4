/**
 * The fleet dashboard: hash routes (#/g/{gym}/fleet, .../treadmills/{id}, .../sessions[/{id}], .../alerts,
 * .../utilisation, #/login), one view at a time; the current view refreshes itself by polling (at most every
 * 2 s, paused while the tab is hidden).
 */
import { ApiFailure, get, loadConfig } from './api.js';
import { completeCognitoLogin, currentToken, logout } from './auth.js';
import { h } from './dom.js';
import { gymName } from './format.js';
import { mountAlerts } from './views/alerts.js';
import { mountFleet } from './views/fleet.js';
import { mountLogin } from './views/login.js';
import { mountOutbox } from './views/outbox.js';
import { mountSession } from './views/session.js';
import { mountSessions } from './views/sessions.js';
import { mountTreadmill } from './views/treadmill.js';
import { mountUtilisation } from './views/utilisation.js';

/**
 * @typedef {{ sub: string, username: string, roles: string[], gyms: string[] }} Me
 * @typedef {{ refresh?: () => Promise<void>, unmount?: () => void }} Mounted
 * @typedef {{
 *   gym: string,
 *   me: Me,
 *   config: import('./auth.js').DashboardConfig,
 *   setAlertCount: (count: number) => void,
 * }} ViewContext
 * @typedef {(root: HTMLElement, context: ViewContext, params: Record<string, string>) => Promise<Mounted>} MountView
 */

/** @type {Array<{ pattern: RegExp, names: string[], tab: string, mount: MountView, roles: string[] }>} */
const ROUTES = [
  { pattern: /^fleet$/, names: [], tab: 'fleet', mount: mountFleet, roles: ['operator'] },
  {
    pattern: /^treadmills\/([^/]+)$/,
    names: ['treadmillId'],
    tab: 'fleet',
    mount: mountTreadmill,
    roles: ['operator'],
  },
  { pattern: /^sessions$/, names: [], tab: 'sessions', mount: mountSessions, roles: ['operator'] },
  {
    pattern: /^sessions\/([^/]+)$/,
    names: ['sessionId'],
    tab: 'sessions',
    mount: mountSession,
    roles: ['operator'],
  },
  { pattern: /^alerts$/, names: [], tab: 'alerts', mount: mountAlerts, roles: ['operator'] },
  {
    pattern: /^utilisation$/,
    names: [],
    tab: 'utilisation',
    mount: mountUtilisation,
    roles: ['operator', 'researcher'],
  },
  { pattern: /^outbox$/, names: [], tab: 'outbox', mount: mountOutbox, roles: ['operator'] },
];

const TABS = [
  { id: 'fleet', label: 'Fleet', roles: ['operator'] },
  { id: 'sessions', label: 'Sessions', roles: ['operator'] },
  { id: 'alerts', label: 'Alerts', roles: ['operator'] },
  { id: 'utilisation', label: 'Utilisation', roles: ['researcher'] },
  { id: 'outbox', label: 'Outbox', roles: ['operator'] },
];

const view = /** @type {HTMLElement} */ (document.getElementById('view'));
const topbar = /** @type {HTMLElement} */ (document.querySelector('.topbar'));
const nav = /** @type {HTMLElement} */ (document.querySelector('[data-testid="nav"]'));
const gymSelect = /** @type {HTMLSelectElement} */ (document.querySelector('[data-testid="gym-select"]'));
const whoami = /** @type {HTMLElement} */ (document.querySelector('[data-testid="whoami"]'));
const logoutButton = /** @type {HTMLButtonElement} */ (document.querySelector('[data-testid="logout"]'));

/** @type {Me | null} */
let me = null;
/** @type {Mounted} */
let mounted = {};
let generation = 0;
let alertCount = 0;

/** @param {Me} who */
const hasRole = (who, /** @type {string[]} */ roles) => roles.some((role) => who.roles.includes(role));

/** @param {Me} who */
const homeOf = (who, gym = who.gyms[0]) =>
  `#/g/${encodeURIComponent(gym ?? '')}/${who.roles.includes('operator') ? 'fleet' : 'utilisation'}`;

/** @param {string} gym @param {string} activeTab */
function renderChrome(gym, activeTab) {
  if (!me) return;
  const who = me;
  topbar.hidden = false;
  nav.replaceChildren(
    ...TABS.filter(
      (tab) => hasRole(who, tab.roles) || (tab.id === 'utilisation' && activeTab === 'utilisation'),
    ).map((tab) =>
      h(
        'a',
        {
          href: `#/g/${encodeURIComponent(gym)}/${tab.id}`,
          class: tab.id === activeTab ? 'active' : '',
          'data-testid': `nav-${tab.id}`,
        },
        tab.label,
        tab.id === 'alerts' && alertCount > 0
          ? h('span', { class: 'count-badge', 'data-testid': 'nav-alert-count' }, alertCount)
          : null,
      ),
    ),
  );
  gymSelect.replaceChildren(
    ...who.gyms.map((id) => h('option', { value: id, selected: id === gym }, gymName(id))),
  );
  gymSelect.hidden = who.gyms.length < 2;
  whoami.textContent = who.username;
}

/** Polls the mounted view until another view replaces it. @param {number} mine @param {number} pollMs */
function schedule(mine, pollMs) {
  setTimeout(async () => {
    if (mine !== generation) return;
    if (!document.hidden && mounted.refresh) {
      try {
        await mounted.refresh();
        view.querySelector('.error-banner.poll')?.remove();
      } catch (error) {
        if (mine === generation) showError(error, 'poll');
      }
    }
    schedule(mine, pollMs);
  }, pollMs);
}

/** @param {unknown} error @param {string} [kind] */
function showError(error, kind = '') {
  if (error instanceof ApiFailure && error.status === 401) return;
  view.querySelector(`.error-banner${kind ? `.${kind}` : ''}`)?.remove();
  const message = error instanceof Error ? error.message : String(error);
  view.prepend(h('div', { class: `error-banner ${kind}`, 'data-testid': 'error' }, message));
}

async function route() {
  const mine = ++generation;
  mounted.unmount?.();
  mounted = {};
  const config = await loadConfig();
  const hash = location.hash.replace(/^#\/?/, '');

  if (!currentToken() || hash === 'login') {
    me = null;
    topbar.hidden = true;
    view.replaceChildren();
    mounted = await mountLogin(view, config, async () => {
      me = await get('/me');
      location.hash = homeOf(/** @type {Me} */ (me));
    });
    return;
  }
  if (!me) me = /** @type {Me} */ (await get('/me'));
  if (mine !== generation) return;
  const who = me;

  const match = /^g\/([^/]+)\/(.+)$/.exec(hash);
  const gym = match ? decodeURIComponent(match[1] ?? '') : '';
  const rest = match?.[2] ?? '';
  const found = ROUTES.map((r) => ({ r, m: r.pattern.exec(rest) })).find(({ m }) => m !== null);
  if (!match || !who.gyms.includes(gym) || !found || !hasRole(who, found.r.roles)) {
    if (who.gyms.length === 0) {
      view.replaceChildren(h('div', { class: 'empty' }, 'Your account has no gyms yet.'));
      return;
    }
    location.replace(homeOf(who, who.gyms.includes(gym) ? gym : who.gyms[0]));
    return;
  }

  /** @type {Record<string, string>} */
  const params = {};
  found.r.names.forEach((name, index) => {
    params[name] = decodeURIComponent(found.m?.[index + 1] ?? '');
  });
  renderChrome(gym, found.r.tab);
  view.replaceChildren();
  /** @type {ViewContext} */
  const context = {
    gym,
    me: who,
    config,
    setAlertCount: (count) => {
      if (count === alertCount) return;
      alertCount = count;
      renderChrome(gym, found.r.tab);
    },
  };
  try {
    const result = await found.r.mount(view, context, params);
    if (mine !== generation) {
      result.unmount?.();
      return;
    }
    mounted = result;
    schedule(mine, Math.max(2000, config.pollMs));
  } catch (error) {
    showError(error);
  }
}

gymSelect.addEventListener('change', () => {
  const rest = location.hash.replace(/^#\/g\/[^/]+\//, '');
  const tab = rest.split('/')[0] ?? 'fleet';
  location.hash = `#/g/${encodeURIComponent(gymSelect.value)}/${tab}`;
});

logoutButton.addEventListener('click', async () => {
  me = null;
  logout(await loadConfig());
});

window.addEventListener('hashchange', () => {
  route().catch(showError);
});

(async () => {
  const config = await loadConfig();
  if (config.auth.mode === 'cognito') await completeCognitoLogin(config.auth);
  await route();
})().catch(showError);
