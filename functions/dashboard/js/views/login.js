/** Sign in: the dev login form locally, a button to Cognito's hosted UI in AWS. */
import { cognitoLogin, devLogin } from '../auth.js';
import { h } from '../dom.js';

const LOGO = () => {
  const img = h('img', { src: '/favicon.svg', width: 44, height: 44, alt: '' });
  return img;
};

/**
 * @param {HTMLElement} root
 * @param {import('../auth.js').DashboardConfig} config
 * @param {() => Promise<void>} onSignedIn
 * @returns {Promise<import('../app.js').Mounted>}
 */
export async function mountLogin(root, config, onSignedIn) {
  const auth = config.auth;
  if (auth.mode === 'cognito') {
    root.append(
      h(
        'div',
        { class: 'login-wrap' },
        h(
          'div',
          { class: 'card login', 'data-testid': 'login' },
          LOGO(),
          h('h1', {}, 'Retrostride'),
          h('p', {}, 'Treadmill fleet for gym operators.'),
          h(
            'button',
            { type: 'button', 'data-testid': 'login-cognito', onclick: () => cognitoLogin(auth) },
            'Sign in',
          ),
        ),
      ),
    );
    return {};
  }

  const username = h('input', {
    name: 'username',
    autocomplete: 'username',
    required: true,
    'data-testid': 'login-username',
  });
  const password = h('input', {
    name: 'password',
    type: 'password',
    autocomplete: 'current-password',
    required: true,
    'data-testid': 'login-password',
  });
  const error = h('div', { class: 'login-error', 'data-testid': 'login-error', role: 'alert' });
  const submit = h('button', { type: 'submit', 'data-testid': 'login-submit' }, 'Sign in');
  const form = h(
    'form',
    {
      class: 'card login',
      'data-testid': 'login-form',
      onsubmit: async (/** @type {SubmitEvent} */ event) => {
        event.preventDefault();
        submit.disabled = true;
        error.textContent = '';
        try {
          const problem = await devLogin(auth, username.value.trim(), password.value);
          if (problem) error.textContent = problem;
          else await onSignedIn();
        } catch (failure) {
          error.textContent = failure instanceof Error ? failure.message : String(failure);
        } finally {
          submit.disabled = false;
        }
      },
    },
    LOGO(),
    h('h1', {}, 'Retrostride'),
    h('p', {}, 'Sign in to see your gym’s treadmills.'),
    h('label', {}, 'Username', username),
    h('label', {}, 'Password', password),
    error,
    submit,
    h(
      'div',
      { class: 'hint' },
      'Local dev logins (passwords are printed by ',
      h('code', {}, 'retrostride dev'),
      '):',
      h(
        'div',
        {},
        auth.users.map((user) =>
          h(
            'button',
            {
              type: 'button',
              title: user.description,
              onclick: () => {
                username.value = user.username;
                password.focus();
              },
            },
            user.username,
          ),
        ),
      ),
    ),
  );
  root.append(h('div', { class: 'login-wrap' }, form));
  username.focus();
  return {};
}
