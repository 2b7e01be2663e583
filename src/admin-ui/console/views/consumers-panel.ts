import type { SecretConsumer } from '../api';
import { h, scrollBox, time } from '../dom';
import type { Context } from './view';

/** What a consumer holds, in words: stale ones say so first, for the eye and for a screen reader. */
function state(consumer: SecretConsumer): { text: string; mark: string } {
  if (consumer.current) return { text: 'Current', mark: 'current' };
  if (consumer.stale) return { text: 'Stale: an old version, over a minute after the change', mark: 'stale' };
  return { text: 'Old version', mark: 'old' };
}

/**
 * Who holds which version of one secret: each token and plugin that resolved it, the version its
 * last resolve returned, and whether that is the current value. `load` fetches it again (the
 * History view calls it on every refresh).
 */
export function consumersPanel(context: Context, key: string): { element: HTMLElement; load: () => Promise<void> } {
  const body = h('tbody', {}, h('tr', {}, h('td', { colspan: 5, class: 'muted' }, 'Loading…')));
  const load = async () => {
    const { items } = await context.api.call<{ items: SecretConsumer[] }>('GET', `/secrets/${key}/consumers`);
    body.replaceChildren(
      ...(items.length > 0
        ? items.map((consumer) => {
            const { text, mark } = state(consumer);
            return h(
              'tr',
              { class: `consumer ${mark}`, 'data-token': consumer.tokenName },
              h('th', { scope: 'row' }, consumer.tokenName, h('span', { class: 'muted' }, ` (${consumer.tokenId})`)),
              h('td', {}, consumer.plugin),
              h('td', { class: 'number' }, consumer.version),
              h('td', {}, time(consumer.resolvedAt)),
              h('td', {}, h('span', { class: `holding ${mark}` }, text)),
            );
          })
        : [h('tr', {}, h('td', { colspan: 5, class: 'muted' }, `No token has resolved ${key} yet.`))]),
    );
  };
  const element = h(
    'section',
    { 'aria-labelledby': 'consumers-title' },
    h('h2', { id: 'consumers-title' }, 'Who holds which version'),
    h('p', { class: 'lead' }, 'The version each token got for each plugin the last time it resolved this secret. A stale one still holds an old value more than a minute after the change.'),
    scrollBox(
      h(
        'table',
        { id: 'consumers-table' },
        h('caption', {}, `Consumers of ${key}, most recent read first`),
        h('thead', {}, h('tr', {}, ...['Token', 'Plugin', 'Version', 'Last resolved', 'Holds'].map((label) => h('th', { scope: 'col' }, label)))),
        body,
      ),
    ),
  );
  return { element, load };
}
