import type { HistoryEntry } from '../api';
import { h, scrollBox, time } from '../dom';
import { announce } from '../status';
import type { Context, View } from './view';

const CHANGE_NAMES: Record<string, string> = { SecretAdded: 'Added', SecretUpdated: 'Changed', SecretRemoved: 'Removed' };

/** Every version of one secret: what happened, when, by whom, and the description it had. */
export function historyView(context: Context, key: string): View {
  const body = h('tbody', {}, h('tr', {}, h('td', { colspan: 5, class: 'muted' }, 'Loading…')));

  const load = async () => {
    const { items } = await context.api.call<{ items: HistoryEntry[] }>('GET', `/secrets/${key}/history`);
    body.replaceChildren(
      ...items.map((entry) =>
        h(
          'tr',
          {},
          h('th', { scope: 'row', class: 'number' }, entry.version),
          h('td', {}, CHANGE_NAMES[entry.type] ?? entry.type, h('span', { class: 'muted' }, ` (${entry.type})`)),
          h('td', {}, time(entry.at)),
          h('td', {}, `${entry.actor.name} (${entry.actor.role})`),
          h('td', {}, entry.description ?? h('span', { class: 'muted' }, '—')),
        ),
      ),
    );
  };

  const element = h(
    'section',
    { 'aria-labelledby': 'view-title' },
    h('p', {}, h('a', { href: '#/secrets' }, '← All secrets')),
    h('h1', { id: 'view-title' }, 'History of ', h('code', {}, key)),
    h('p', { class: 'lead' }, 'Each version of this secret, oldest first. Values are not part of the history.'),
    scrollBox(
      h(
        'table',
        {},
        h('caption', {}, `Versions of ${key}`),
        h('thead', {}, h('tr', {}, ...['Version', 'Change', 'When', 'By', 'Description'].map((label) => h('th', { scope: 'col' }, label)))),
        body,
      ),
    ),
  );
  void load().catch((error: unknown) => {
    body.replaceChildren();
    announce(`The history of ${key} could not be loaded: ${error instanceof Error ? error.message : String(error)}`, 'error');
  });
  return { title: `History of ${key}`, element, refresh: load };
}
