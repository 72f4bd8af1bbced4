/** The API, from the base URL in /config.json, with the signed-in token; a 401 sends the user to sign in. */
import { currentToken, forgetToken } from './auth.js';

/** @typedef {import('./auth.js').DashboardConfig} DashboardConfig */

export class ApiFailure extends Error {
  /** @param {number} status @param {string} message @param {string[]} [reasons] each problem, one line (a 400) */
  constructor(status, message, reasons = []) {
    super(message);
    this.status = status;
    this.reasons = reasons;
  }
}

/** @type {DashboardConfig | undefined} */
let config;

/** @returns {Promise<DashboardConfig>} */
export async function loadConfig() {
  if (config) return config;
  const response = await fetch('/config.json', { cache: 'no-store' });
  if (!response.ok) throw new Error(`config.json: ${response.status}`);
  config = /** @type {DashboardConfig} */ (await response.json());
  return config;
}

/**
 * @param {'GET' | 'POST'} method
 * @param {string} path under the API base, e.g. `/gyms/gym-a/treadmills`
 * @returns {Promise<any>}
 */
async function request(method, path) {
  const { apiBaseUrl } = await loadConfig();
  const token = currentToken();
  const response = await fetch(`${apiBaseUrl}${path}`, {
    method,
    headers: token ? { authorization: `Bearer ${token}` } : {},
    cache: 'no-store',
  });
  const body = await response.json().catch(() => ({}));
  if (response.status === 401) {
    forgetToken();
    // Back here after signing in again (app.js routeAfterSignIn).
    // Requests go in pairs: the second 401 must not overwrite the first one's `next`.
    if (location.hash.startsWith('#/g/')) location.hash = `#/login?next=${encodeURIComponent(location.hash)}`;
    else if (!location.hash.startsWith('#/login')) location.hash = '#/login';
  }
  if (!response.ok)
    throw new ApiFailure(
      response.status,
      body?.error?.message ?? body?.message ?? response.statusText,
      Array.isArray(body?.error?.reasons) ? body.error.reasons.map(String) : [],
    );
  return body;
}

/** @param {string} path */
export const get = (path) => request('GET', path);
/** @param {string} path */
export const post = (path) => request('POST', path);

/** Path segment, escaped. @param {string} value */
export const seg = (value) => encodeURIComponent(value);
