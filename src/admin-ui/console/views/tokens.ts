import { listedPlugins } from '../../../auth/plugin-name';
import { ApiError, type IssuedToken, type TokenInfo } from '../api';
import { copyText } from '../clipboard';
import { confirmAction } from '../confirm-dialog';
import { actionButton, h, keepingFocus, scrollBox, time } from '../dom';
import { field, showFieldProblems } from '../fields';
import { ago } from '../relative-time';
import { announce } from '../status';
import type { Context, View } from './view';

/**
 * Admins issue, list and revoke tokens. A new token is on the page only in the panel that
 * announces it, until the admin dismisses it or leaves the view: the service keeps only its hash.
 */
export function tokensView(context: Context): View {
  const body = h('tbody');
  const issuedSlot = h('div');

  const name = field('Name', h('input', { name: 'name', autocomplete: 'off', maxlength: 100, required: true }), 'Who or what will use it, for example cvat-runner.');
  const role = field(
    'Role',
    h('select', { name: 'role' }, h('option', { value: 'executor' }, 'executor (resolves values for plugins)'), h('option', { value: 'auditor' }, 'auditor (reads the audit trail)'), h('option', { value: 'admin' }, 'admin (changes secrets and tokens)')),
  );
  const plugins = field('Plugins', h('input', { name: 'plugins', autocomplete: 'off' }), 'Executor tokens only: the plugins it may resolve for, separated by commas or spaces. Empty: any plugin.');
  const fields = [name, role, plugins];
  role.control.addEventListener('change', () => {
    plugins.control.disabled = role.control.value !== 'executor';
  });

  const load = async () => {
    const { items } = await context.api.call<{ items: TokenInfo[] }>('GET', '/tokens');
    keepingFocus(body, () => body.replaceChildren(...items.map(row)));
  };

  const row = (token: TokenInfo) =>
    h(
      'tr',
      { 'data-token-id': token.id },
      h('th', { scope: 'row' }, token.name),
      // Names are not unique; the id is what the audit trail and the API name a token by.
      h('td', { class: 'token-id' }, h('code', {}, token.id), ' ', actionButton('Copy id', `of ${token.name}`, () => void copyText(token.id, `the id of ${token.name}`))),
      h('td', {}, token.role),
      h('td', {}, token.plugins ? token.plugins.join(', ') : token.role === 'executor' ? 'any plugin' : '—'),
      h('td', {}, time(token.createdAt)),
      h('td', {}, token.revokedAt ? h('span', {}, 'revoked ', time(token.revokedAt)) : 'active'),
      h('td', { class: 'last-used' }, ago(token.lastUsedAt)),
      h('td', { class: 'row-actions' }, !token.revokedAt && actionButton('Revoke', token.name, () => void revoke(token), 'danger')),
    );

  const issue = async (event: Event) => {
    event.preventDefault();
    fields.forEach((f) => f.clearError());
    const request: Record<string, unknown> = { name: name.control.value.trim(), role: role.control.value };
    const pluginList = listedPlugins([plugins.control.value]);
    if (role.control.value === 'executor' && pluginList.length > 0) request.plugins = pluginList;
    if (request.name === '') {
      name.showError('Enter a name for the token.');
      name.control.focus();
      return announce('No token was issued: the name is missing.', 'error');
    }
    try {
      const issued = await context.api.call<IssuedToken>('POST', '/tokens', { json: request });
      (event.target as HTMLFormElement).reset();
      plugins.control.disabled = false;
      showIssued(issued);
      announce(`Issued the ${issued.role} token ${issued.name}. Copy it now: it will not be shown again.`);
      await load();
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      showFieldProblems(fields, error.problem.errors ?? []);
      announce(`No token was issued: ${error.problem.detail}`, 'error');
    }
  };

  const showIssued = (issued: IssuedToken) => {
    const value = h('input', { id: 'issued-token', readonly: true, value: issued.token, class: 'token', spellcheck: 'false' });
    const panel = h(
      'section',
      { class: 'panel issued', 'aria-labelledby': 'issued-title' },
      h('h2', { id: 'issued-title' }, `New ${issued.role} token: ${issued.name}`),
      h('p', { class: 'warning' }, 'Copy this token now: it will not be shown again. The service keeps only its hash, so a lost token cannot be recovered, only revoked and replaced.'),
      h('label', { for: value.id }, 'Token'),
      value,
      h(
        'div',
        { class: 'actions' },
        h('button', { type: 'button', onclick: () => void copyText(issued.token, 'the token') }, 'Copy token'),
        h('button', { type: 'button', class: 'secondary', onclick: () => (issuedSlot.replaceChildren(), announce(`The token ${issued.name} is no longer on the page.`, 'info')) }, 'Done, hide the token'),
      ),
    );
    issuedSlot.replaceChildren(panel);
    value.focus();
    value.select();
  };

  const revoke = async (token: TokenInfo) => {
    const confirmed = await confirmAction(
      `Revoke ${token.name}?`,
      `Every request with the ${token.role} token ${token.name} is refused from now on; this cannot be undone.`,
      `Revoke ${token.name}`,
    );
    if (!confirmed) return announce(`${token.name} was not revoked.`, 'info');
    try {
      await context.api.call('DELETE', `/tokens/${token.id}`);
      announce(`Revoked the ${token.role} token ${token.name}.`);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      announce(`${token.name} was not revoked: ${error.problem.detail}`, 'error');
    }
    await load();
  };

  const element = h(
    'section',
    { 'aria-labelledby': 'view-title' },
    h('h1', { id: 'view-title' }, 'Tokens'),
    h('p', { class: 'lead' }, 'Each token is shown once, when it is issued; the service stores only its hash. Revoking takes effect on the next request.'),
    h('form', { class: 'panel', 'aria-labelledby': 'issue-title', novalidate: true, onsubmit: issue }, h('h2', { id: 'issue-title' }, 'Issue a token'), ...fields.map((f) => f.wrapper), h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Issue token'))),
    issuedSlot,
    scrollBox(
      h(
        'table',
        {},
        h('caption', {}, 'Tokens, oldest first (never the tokens themselves)'),
        h('thead', {}, h('tr', {}, ...['Name', 'Id', 'Role', 'Plugins', 'Issued', 'Status', 'Last used', 'Actions'].map((label) => h('th', { scope: 'col' }, label)))),
        body,
      ),
    ),
  );
  void load().catch((error: unknown) => announce(`The tokens could not be loaded: ${error instanceof Error ? error.message : String(error)}`, 'error'));
  return { title: 'Tokens', element, refresh: load };
}
