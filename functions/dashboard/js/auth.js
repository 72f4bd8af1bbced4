/**
 * Signing in: locally a dev login (POST username and password, get a token); in AWS Cognito's hosted UI with
 * the authorization-code grant and PKCE, keeping the ID token (it carries `cognito:groups` and `custom:gyms`).
 * Either way the token is sent as `Authorization: Bearer` and kept in localStorage with its expiry:
 *
 * Why localStorage: an operator opens a treadmill or a session in a new tab, and sessionStorage is per tab
 * (a new tab would ask to sign in again). localStorage is shared by the tabs of this origin, and the token
 * is only ever used before its own expiry (checked on every read, removed when past it), so keeping it
 * there adds no lifetime to it; signing out removes it for every tab (they hear of it through the
 * `storage` event). The same XSS exposure as sessionStorage: the CSP allows no inline or foreign script.
 */

/**
 * @typedef {{ mode: 'dev', loginPath: string, users: Array<{ username: string, description: string }> }} DevAuth
 * @typedef {{ mode: 'cognito', domain: string, clientId: string, scopes?: string[] }} CognitoAuth
 * @typedef {{ apiBaseUrl: string, pollMs: number, auth: DevAuth | CognitoAuth }} DashboardConfig
 */

const SESSION_KEY = 'retrostride.session';
const PKCE_KEY = 'retrostride.pkce';

/** The stored token while it has not expired; an expired or unreadable one is removed. @returns {string | null} */
export function currentToken() {
  const stored = localStorage.getItem(SESSION_KEY);
  if (!stored) return null;
  try {
    const { token, expiresAt } = /** @type {{ token: unknown, expiresAt: unknown }} */ (JSON.parse(stored));
    if (typeof token === 'string' && typeof expiresAt === 'number' && expiresAt > Date.now()) return token;
  } catch {
    // Not ours or damaged: same as expired.
  }
  localStorage.removeItem(SESSION_KEY);
  return null;
}

/** @param {string} token @param {number} expiresAt */
function keep(token, expiresAt) {
  localStorage.setItem(SESSION_KEY, JSON.stringify({ token, expiresAt }));
}

export function forgetToken() {
  localStorage.removeItem(SESSION_KEY);
}

/** Runs `callback` when another tab of this origin signs out (removes the token). @param {() => void} callback */
export function onSignedOutElsewhere(callback) {
  window.addEventListener('storage', (event) => {
    if ((event.key === SESSION_KEY || event.key === null) && event.newValue === null) callback();
  });
}

/**
 * @param {DevAuth} auth
 * @param {string} username
 * @param {string} password
 * @returns {Promise<string | null>} null on success, else what to tell the user
 */
export async function devLogin(auth, username, password) {
  const response = await fetch(auth.loginPath, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) return body?.error?.message ?? `sign-in failed (${response.status})`;
  keep(body.token, body.expiresAt);
  return null;
}

/** @param {ArrayBuffer | Uint8Array} bytes */
const base64url = (bytes) =>
  btoa(String.fromCharCode(...new Uint8Array(bytes)))
    .replaceAll('+', '-')
    .replaceAll('/', '_')
    .replace(/=+$/, '');

const randomText = () => base64url(crypto.getRandomValues(new Uint8Array(32)));
const redirectUri = () => `${location.origin}/`;

/** Off to the hosted UI; it comes back to `/?code=...&state=...`. @param {CognitoAuth} auth */
export async function cognitoLogin(auth) {
  const verifier = randomText();
  const state = randomText();
  sessionStorage.setItem(PKCE_KEY, JSON.stringify({ verifier, state }));
  const challenge = base64url(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));
  const params = new URLSearchParams({
    response_type: 'code',
    client_id: auth.clientId,
    redirect_uri: redirectUri(),
    scope: (auth.scopes ?? ['openid', 'email', 'profile']).join(' '),
    state,
    code_challenge: challenge,
    code_challenge_method: 'S256',
  });
  location.assign(`${auth.domain}/oauth2/authorize?${params}`);
}

/**
 * Finishes a hosted-UI round trip when the page was opened with its code; false when there is none.
 * @param {CognitoAuth} auth
 */
export async function completeCognitoLogin(auth) {
  const url = new URL(location.href);
  const code = url.searchParams.get('code');
  const pending = sessionStorage.getItem(PKCE_KEY);
  if (!code || !pending) return false;
  sessionStorage.removeItem(PKCE_KEY);
  history.replaceState(null, '', `${url.origin}/${url.hash}`);
  const { verifier, state } = /** @type {{ verifier: string, state: string }} */ (JSON.parse(pending));
  if (url.searchParams.get('state') !== state) return false;
  const response = await fetch(`${auth.domain}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      client_id: auth.clientId,
      code,
      redirect_uri: redirectUri(),
      code_verifier: verifier,
    }),
  });
  if (!response.ok) return false;
  const tokens = await response.json();
  keep(tokens.id_token, Date.now() + tokens.expires_in * 1000);
  return true;
}

/** @param {DashboardConfig} config */
export function logout(config) {
  forgetToken();
  if (config.auth.mode === 'cognito') {
    const params = new URLSearchParams({ client_id: config.auth.clientId, logout_uri: redirectUri() });
    location.assign(`${config.auth.domain}/logout?${params}`);
  } else location.hash = '#/login';
}
