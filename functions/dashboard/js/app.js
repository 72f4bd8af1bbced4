/**
 * The fleet dashboard: hash routes (#/g/{gym}/fleet, .../treadmills/{id}, .../sessions[/{id}], .../alerts,
 * .../utilisation, .../research (a researcher's home), #/login[?next=<route>]), one view at a time; the
 * current view refreshes itself by polling (at most every 2 s, paused while the tab is hidden) and updates in
 * place (dom.js), so focus stays put.
 * A route asked for before signing in is where sign-in lands (a deep link survives the login page).
 */
import { ApiFailure, get, loadConfig } from './api.js';
import { completeCognitoLogin, currentToken, logout, onSignedOutElsewhere } from './auth.js';
import { h } from './dom.js';
import { gymName } from './format.js';
import { mountAlerts } from './views/alerts.js';
import { mountFleet } from './views/fleet.js';
import { mountLogin } from './views/login.js';
import { mountOutbox } from './views/outbox.js';
import { mountSession } from './views/session.js';
import { mountSessions } from './views/sessions.js';
import { mountTreadmill } from './views/treadmill.js';
import { mountResearch } from './views/research.js';
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

/**
 * `title` names the page in the document title (what a screen reader says first and a tab shows).
 * @type {Array<{ pattern: RegExp, names: string[], tab: string, title: (params: Record<string, string>) => string, mount: MountView, roles: string[] }>}
 */
const ROUTES = [
  {
    pattern: /^fleet$/,
    names: [],
    tab: 'fleet',
    title: () => 'Fleet',
    mount: mountFleet,
    roles: ['operator'],
  },
  {
    pattern: /^treadmills\/([^/]+)$/,
    names: ['treadmillId'],
    tab: 'fleet',
    title: ({ treadmillId }) => `Treadmill ${treadmillId}`,
    mount: mountTreadmill,
    roles: ['operator'],
  },
  {
    pattern: /^sessions$/,
    names: [],
    tab: 'sessions',
    title: () => 'Sessions',
    mount: mountSessions,
    roles: ['operator'],
  },
  {
    pattern: /^sessions\/([^/]+)$/,
    names: ['sessionId'],
    tab: 'sessions',
    title: () => 'Session',
    mount: mountSession,
    roles: ['operator'],
  },
  {
    pattern: /^alerts$/,
    names: [],
    tab: 'alerts',
    title: () => 'Alerts',
    mount: mountAlerts,
    roles: ['operator'],
  },
  {
    pattern: /^utilisation$/,
    names: [],
    tab: 'utilisation',
    title: () => 'Utilisation',
    mount: mountUtilisation,
    roles: ['operator'],
  },
  {
    pattern: /^research$/,
    names: [],
    tab: 'research',
    title: () => 'Research',
    mount: mountResearch,
    roles: ['researcher'],
  },
  {
    pattern: /^outbox$/,
    names: [],
    tab: 'outbox',
    title: () => 'Outbox',
    mount: mountOutbox,
    roles: ['operator'],
  },
];

const TABS = [
  { id: 'fleet', label: 'Fleet', roles: ['operator'] },
  { id: 'sessions', label: 'Sessions', roles: ['operator'] },
  { id: 'alerts', label: 'Alerts', roles: ['operator'] },
  // Operators reach their gym's utilisation from the fleet view; the tab shows while they are on it.
  { id: 'utilisation', label: 'Utilisation', roles: [] },
  { id: 'research', label: 'Research', roles: ['researcher'] },
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
  `#/g/${encodeURIComponent(gym ?? '')}/${who.roles.includes('operator') ? 'fleet' : 'research'}`;

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
          'aria-current': tab.id === activeTab ? 'page' : null,
          'data-testid': `nav-${tab.id}`,
        },
        tab.label,
        tab.id === 'alerts' && alertCount > 0
          ? h(
              'span',
              { class: 'count-badge', 'data-testid': 'nav-alert-count' },
              alertCount,
              h('span', { class: 'visually-hidden' }, ' open'),
            )
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

/** @param {string} page @param {string} [gym] */
const setTitle = (page, gym) =>
  (document.title = [page, gym ? gymName(gym) : null, 'Retrostride'].filter(Boolean).join(' · '));

/**
 * Where sign-in should land: the `next` of `#/login?next=...`, or the route the user opened signed out.
 * Only dashboard routes (`#/g/...`); the router still checks the user may see it.
 * @param {string} hash without its `#/`
 */
function routeAfterSignIn(hash) {
  const next = hash.startsWith('login')
    ? (new URLSearchParams(hash.slice('login'.length).replace(/^\?/, '')).get('next') ?? '')
    : `#/${hash}`;
  return next.startsWith('#/g/') ? next : null;
}

async function route() {
  const mine = ++generation;
  mounted.unmount?.();
  mounted = {};
  const config = await loadConfig();
  const hash = location.hash.replace(/^#\/?/, '');

  if (!currentToken() || hash === 'login' || hash.startsWith('login?')) {
    me = null;
    topbar.hidden = true;
    setTitle('Sign in');
    view.replaceChildren();
    const next = routeAfterSignIn(hash);
    mounted = await mountLogin(view, config, async () => {
      me = await get('/me');
      const home = homeOf(/** @type {Me} */ (me));
      if (next && next === location.hash) await route();
      else location.hash = next ?? home;
    });
    return;
  }
  if (!me) me = /** @type {Me} */ (await get('/me'));
  if (mine !== generation) return;
  const who = me;

  const match = /^g\/([^/]+)\/(.+)$/.exec(hash);
  const gym = match ? decodeURIComponent(match[1] ?? '') : '';
  // A view's own query (a time range, filters: range-picker.js) follows "?"; routes match the path only.
  const rest = (match?.[2] ?? '').split('?')[0] ?? '';
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
  setTitle(found.r.title(params), gym);
  // Each route draws into its own element: a route left while it was still loading draws into one no longer
  // in the page, instead of beside the route that replaced it.
  const page = h('div', { class: 'route' });
  view.replaceChildren(page);
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
    const result = await found.r.mount(page, context, params);
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

// Signing out in one tab signs out the others (they share the stored token, auth.js).
onSignedOutElsewhere(() => {
  me = null;
  route().catch(showError);
});

(async () => {
  const config = await loadConfig();
  if (config.auth.mode === 'cognito') await completeCognitoLogin(config.auth);
  await route();
})().catch(showError);
