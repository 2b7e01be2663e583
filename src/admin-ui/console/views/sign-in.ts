import { ApiError, type Whoami, whoami } from '../api';
import { h } from '../dom';
import { field } from '../fields';
import { announce } from '../status';

/**
 * Paste a token, sign in. The token is checked (`GET /whoami`) before it is kept, and the field
 * is emptied either way, so it is on the page only while being typed.
 */
export function signInView(signedIn: (token: string, who: Whoami) => void, reason?: string): HTMLElement {
  const token = field(
    'Token',
    h('input', { name: 'token', type: 'password', autocomplete: 'off', spellcheck: 'false', required: true }),
    'An admin or auditor token (slt_…). It is kept in this browser tab only, until you sign out or close the tab.',
  );
  const submit = async (event: Event) => {
    event.preventDefault();
    token.clearError();
    const entered = token.control.value.trim();
    token.control.value = '';
    if (entered === '') {
      token.showError('Paste a token to sign in.');
      token.control.focus();
      return;
    }
    try {
      signedIn(entered, await whoami(entered));
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      token.showError(error.status === 401 ? 'This token is unknown or has been revoked.' : error.problem.detail);
      token.control.focus();
      announce('Not signed in.', 'error');
    }
  };
  return h(
    'section',
    { 'aria-labelledby': 'view-title', class: 'sign-in' },
    h('h1', { id: 'view-title' }, 'Sign in'),
    reason ? h('p', { class: 'warning' }, reason) : null,
    h('form', { class: 'panel', novalidate: true, onsubmit: submit, 'aria-labelledby': 'view-title' }, token.wrapper, h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Sign in'))),
  );
}

/** An executor token is valid, just not for this console: say so plainly, keep nothing. */
export function executorRefusal(who: Whoami, back: () => void): HTMLElement {
  return h(
    'section',
    { 'aria-labelledby': 'view-title' },
    h('h1', { id: 'view-title' }, 'No access to the console'),
    h(
      'p',
      { class: 'warning', role: 'alert' },
      `${who.name} is an executor token: it resolves secrets for plugins and has no access here. Sign in with an admin or auditor token to use the console.`,
    ),
    h('button', { type: 'button', onclick: back }, 'Sign in with another token'),
  );
}
