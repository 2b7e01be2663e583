import { Api, type Whoami, whoami } from './api';
import { h } from './dom';
import { followChanges, watchHead } from './live';
import { forgetToken, keepToken, storedToken } from './session';
import { announce, clearStatus } from './status';
import { auditView } from './views/audit';
import { historyView } from './views/history';
import { missingKeysView } from './views/missing-keys';
import { secretsView } from './views/secrets';
import { executorRefusal, signInView } from './views/sign-in';
import { tokensView } from './views/tokens';
import type { Context, View } from './views/view';

/**
 * The console's shell: sign-in, the navigation the role allows, the current view (from the
 * URL's fragment, which never holds a token or a value), live refresh, sign-out.
 */
const main = document.getElementById('main') as HTMLElement;
const nav = document.getElementById('nav') as HTMLElement;
const account = document.getElementById('account') as HTMLElement;

let stopFollowing: (() => void) | undefined;
let stopWatchingHead: (() => void) | undefined;
let currentView: View | undefined;

const TOKEN_STOPPED = 'Your token stopped working (revoked, or the service forgot it): sign in again.';
const refreshView = async () => {
  await currentView?.refresh?.();
};
/** The audit trail and the tokens list also move with entries the change stream does not carry. */
/**
 * Views that show what the change stream does not carry: audit entries, tokens (last used), and
 * what resolves found (missing keys; who holds which version on a secret's History).
 */
const movesWithTheHead = (context: Context, hash: string) =>
  hash === '#/audit' || hash === '#/missing-keys' || /^#\/secrets\/[^/]+\/history$/.test(hash) || (hash === '#/tokens' && context.who.role === 'admin');

const ROUTES: { hash: string; label: string; roles: string[] }[] = [
  { hash: '#/secrets', label: 'Secrets', roles: ['admin', 'auditor'] },
  { hash: '#/tokens', label: 'Tokens', roles: ['admin'] },
  { hash: '#/audit', label: 'Audit', roles: ['admin', 'auditor'] },
  { hash: '#/missing-keys', label: 'Missing keys', roles: ['admin', 'auditor'] },
];

function viewFor(context: Context, hash: string): View {
  const history = /^#\/secrets\/([A-Z][A-Z0-9_]*)\/history$/.exec(hash);
  if (history) return historyView(context, history[1]);
  if (hash === '#/tokens' && context.who.role === 'admin') return tokensView(context);
  if (hash === '#/audit') return auditView(context);
  if (hash === '#/missing-keys') return missingKeysView(context);
  return secretsView(context);
}

function show(context: Context): void {
  const hash = location.hash || '#/secrets';
  currentView = viewFor(context, hash);
  document.title = `${currentView.title} · Secrets Ledger`;
  for (const link of Array.from(nav.querySelectorAll('a'))) {
    if (hash.startsWith(link.getAttribute('href') ?? '')) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  main.replaceChildren(statusLine(), currentView.element);
  main.focus();
  stopWatchingHead?.();
  stopWatchingHead = movesWithTheHead(context, hash) ? watchHead(context.api, refreshView) : undefined;
}

const statusLine = () => document.getElementById('status') ?? h('p', { id: 'status', role: 'status', class: 'status info' });

function signedIn(token: string, who: Whoami): void {
  if (who.role === 'executor') {
    forgetToken();
    nav.replaceChildren();
    main.replaceChildren(statusLine(), executorRefusal(who, () => signOut()));
    announce('Not signed in: executor tokens have no access to the console.', 'error');
    return;
  }
  keepToken(token);
  const context: Context = { who, api: new Api(token, () => signOut(TOKEN_STOPPED)) };
  nav.replaceChildren(
    h('ul', {}, ...ROUTES.filter((r) => r.roles.includes(who.role)).map((r) => h('li', {}, h('a', { href: r.hash }, r.label)))),
  );
  account.replaceChildren(h('span', {}, 'Signed in as ', h('strong', {}, who.name), ` (${who.role})`), h('button', { type: 'button', class: 'secondary', onclick: () => signOut() }, 'Sign out'));
  window.onhashchange = () => {
    clearStatus();
    show(context);
  };
  show(context);
  announce(`Signed in as ${who.name} (${who.role}).`);
  stopFollowing?.();
  stopFollowing = followChanges(context.api, refreshView, () => signOut(TOKEN_STOPPED));
}

function signOut(reason?: string): void {
  stopFollowing?.();
  stopWatchingHead?.();
  stopFollowing = stopWatchingHead = undefined;
  currentView = undefined;
  forgetToken();
  window.onhashchange = null;
  nav.replaceChildren();
  account.replaceChildren();
  document.title = 'Sign in · Secrets Ledger';
  main.replaceChildren(statusLine(), signInView(signedIn, reason));
  if (reason) announce(reason, 'error');
  else announce('Signed out. The token is no longer kept in this tab.', 'info');
  (main.querySelector('input') as HTMLInputElement | null)?.focus();
}

async function start(): Promise<void> {
  const token = storedToken();
  if (!token) {
    main.replaceChildren(statusLine(), signInView(signedIn));
    return;
  }
  try {
    signedIn(token, await whoami(token));
  } catch {
    forgetToken();
    main.replaceChildren(statusLine(), signInView(signedIn, 'Your session ended: sign in again.'));
  }
}

void start();
