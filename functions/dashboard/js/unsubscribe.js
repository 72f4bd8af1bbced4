/**
 * The page behind the unsubscribe link in a progress email. Opening it changes nothing (mail scanners follow
 * links); the button sends the same POST as a mail client's one-click unsubscribe (RFC 8058).
 */
import { loadConfig } from './api.js';

const message = /** @type {HTMLElement} */ (document.querySelector('[data-testid="unsubscribe-message"]'));
const button = /** @type {HTMLButtonElement} */ (
  document.querySelector('[data-testid="unsubscribe-confirm"]')
);
const token = new URLSearchParams(location.search).get('token');

if (!token) {
  message.textContent = 'This link is incomplete: open it from the email again.';
} else {
  button.disabled = false;
  button.addEventListener('click', async () => {
    button.disabled = true;
    try {
      const { apiBaseUrl } = await loadConfig();
      const response = await fetch(`${apiBaseUrl}/unsubscribe?token=${encodeURIComponent(token)}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'List-Unsubscribe=One-Click',
      });
      if (response.ok) {
        message.textContent = 'Done: you will get no more weekly progress emails.';
        button.hidden = true;
      } else {
        message.textContent =
          response.status === 403
            ? 'This link is not valid. Ask your gym to stop the emails.'
            : 'That did not work; try again in a moment.';
        button.disabled = response.status === 403;
      }
    } catch {
      message.textContent = 'That did not work; try again in a moment.';
      button.disabled = false;
    }
  });
}
