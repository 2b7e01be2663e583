import { StoredEventType } from '../../../event-store/stored-event-types';
import type { HistoryEntry } from '../api';
import { h, scrollBox, time } from '../dom';
import { announce } from '../status';
import { consumersPanel } from './consumers-panel';
import type { Context, View } from './view';

const CHANGE_NAMES: Record<string, string> = { SecretAdded: 'Added', SecretUpdated: 'Changed', SecretRemoved: 'Removed' };

/**
 * What each version changed, in words. An update names its description only when it changed, so
 * the one before is carried along: "unchanged" is never shown as a blank that reads as cleared.
 */
function changes(items: HistoryEntry[]): { entry: HistoryEntry; value: string; description: string }[] {
  let current: string | undefined;
  return items.map((entry) => {
    const before = current;
    if (entry.type === StoredEventType.SecretRemoved) {
      current = undefined;
      return { entry, value: 'removed', description: '' };
    }
    if (entry.type === StoredEventType.SecretAdded) {
      current = entry.description ?? '';
      return { entry, value: 'set', description: quote(current) };
    }
    const value = entry.valueChanged === undefined ? 'not recorded' : entry.valueChanged ? 'changed' : 'unchanged';
    if (entry.description === undefined || entry.description === before) return { entry, value, description: `unchanged: ${quote(before ?? '')}` };
    current = entry.description;
    return { entry, value, description: `${quote(before ?? '')} → ${quote(current)}` };
  });
}

const quote = (text: string) => (text === '' ? '(none)' : `“${text}”`);

/** Every version of one secret: what happened, when, by whom, and what changed. */
export function historyView(context: Context, key: string): View {
  const body = h('tbody', {}, h('tr', {}, h('td', { colspan: 6, class: 'muted' }, 'Loading…')));
  const consumers = consumersPanel(context, key);

  const load = async () => {
    const { items } = await context.api.call<{ items: HistoryEntry[] }>('GET', `/secrets/${key}/history`);
    body.replaceChildren(
      ...changes(items).map(({ entry, value, description }) =>
        h(
          'tr',
          {},
          h('th', { scope: 'row', class: 'number' }, entry.version),
          h('td', {}, CHANGE_NAMES[entry.type] ?? entry.type, h('span', { class: 'muted' }, ` (${entry.type})`)),
          h('td', {}, time(entry.at)),
          h('td', {}, `${entry.actor.name} (${entry.actor.role})`),
          h('td', {}, value),
          h('td', {}, description),
        ),
      ),
    );
    await consumers.load();
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
        { id: 'history-table' },
        h('caption', {}, `Versions of ${key}`),
        h('thead', {}, h('tr', {}, ...['Version', 'Change', 'When', 'By', 'Value', 'Description'].map((label) => h('th', { scope: 'col' }, label)))),
        body,
      ),
    ),
    consumers.element,
  );
  void load().catch((error: unknown) => {
    body.replaceChildren();
    announce(`The history of ${key} could not be loaded: ${error instanceof Error ? error.message : String(error)}`, 'error');
  });
  return { title: `History of ${key}`, element, refresh: load };
}
