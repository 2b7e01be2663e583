import { StoredEventType } from '../../../event-store/stored-event-types';
import { ApiError, type HistoryEntry } from '../api';
import { confirmAction } from '../confirm-dialog';
import { actionButton, formatTime, h, scrollBox, time } from '../dom';
import { announce } from '../status';
import { consumersPanel } from './consumers-panel';
import { canChange, type Context, type View } from './view';

const CHANGE_NAMES: Record<string, string> = { SecretAdded: 'Added', SecretUpdated: 'Changed', SecretRemoved: 'Removed', SecretRolledBack: 'Rolled back' };

/**
 * Which version sealed the value each version holds (a description-only change holds the one
 * before; a removal none), to offer only what the service would do: a rollback to a version with
 * a value that is neither destroyed nor current, and the destroy of a value a version sealed
 * itself that the secret does not hold now. The service decides again either way.
 */
function versionActions(items: HistoryEntry[]): Map<number, { rollback: boolean; destroy: boolean }> {
  const sealedIn = new Map<number, number | undefined>();
  let previous: number | undefined;
  for (const entry of items) {
    const seals = entry.type === StoredEventType.SecretAdded || entry.type === StoredEventType.SecretRolledBack || entry.valueChanged === true;
    previous = entry.type === StoredEventType.SecretRemoved ? undefined : seals ? entry.version : previous;
    sealedIn.set(entry.version, previous);
  }
  const last = items.at(-1);
  const currentValue = last && last.type !== StoredEventType.SecretRemoved ? sealedIn.get(last.version) : undefined;
  return new Map(
    items.map((entry) => {
      const holds = sealedIn.get(entry.version);
      const open = holds !== undefined && entry.destroyed === undefined;
      return [entry.version, { rollback: open && currentValue !== undefined && entry !== last, destroy: open && holds === entry.version && holds !== currentValue }];
    }),
  );
}

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
    if (entry.type === StoredEventType.SecretRolledBack) return { entry, value: `version ${entry.toVersion ?? '?'}’s`, description: `unchanged: ${quote(before ?? '')}` };
    const value = entry.valueChanged === undefined ? 'not recorded' : entry.valueChanged ? 'changed' : 'unchanged';
    if (entry.description === undefined || entry.description === before) return { entry, value, description: `unchanged: ${quote(before ?? '')}` };
    current = entry.description;
    return { entry, value, description: `${quote(before ?? '')} → ${quote(current)}` };
  });
}

const quote = (text: string) => (text === '' ? '(none)' : `“${text}”`);

const destroyedNote = (entry: HistoryEntry) => (entry.destroyed ? `; destroyed ${formatTime(entry.destroyed.at)} by ${entry.destroyed.by}` : '');

/** Every version of one secret: what happened, when, by whom, and what changed; admins roll back and destroy here. */
export function historyView(context: Context, key: string): View {
  const editable = canChange(context);
  const columns = ['Version', 'Change', 'When', 'By', 'Value', 'Description', ...(editable ? ['Actions'] : [])];
  const body = h('tbody', {}, h('tr', {}, h('td', { colspan: columns.length, class: 'muted' }, 'Loading…')));
  let latest = 0;
  const consumers = consumersPanel(context, key);

  const load = async () => {
    const { items } = await context.api.call<{ items: HistoryEntry[] }>('GET', `/secrets/${key}/history`);
    latest = items.at(-1)?.version ?? 0;
    const actions = versionActions(items);
    body.replaceChildren(
      ...changes(items).map(({ entry, value, description }) =>
        h(
          'tr',
          { 'data-version': entry.version },
          h('th', { scope: 'row', class: 'number' }, entry.version),
          h('td', {}, CHANGE_NAMES[entry.type] ?? entry.type, h('span', { class: 'muted' }, ` (${entry.type})`)),
          h('td', {}, time(entry.at)),
          h('td', {}, `${entry.actor.name} (${entry.actor.role})`),
          h('td', {}, value + destroyedNote(entry)),
          h('td', {}, description),
          editable &&
            h(
              'td',
              { class: 'row-actions' },
              actions.get(entry.version)?.rollback && actionButton('Roll back', `${key} to version ${entry.version}`, () => void rollback(entry.version)),
              actions.get(entry.version)?.destroy && actionButton('Destroy', `version ${entry.version} of ${key}`, () => void destroy(entry.version), 'danger'),
            ),
        ),
      ),
    );
    await consumers.load();
  };

  /** A refusal (changed or destroyed meanwhile) is said in the status line, and the table shows the history as it is now. */
  const act = async (work: () => Promise<string>) => {
    try {
      announce(await work());
    } catch (error) {
      if (!(error instanceof ApiError) || ![404, 409, 412].includes(error.status)) throw error;
      announce(`Nothing was changed: ${error.message} The table shows the history as it is now.`, 'error');
    }
    await load();
  };

  const rollback = async (version: number) => {
    const seen = latest;
    const confirmed = await confirmAction(
      `Roll ${key} back to version ${version}?`,
      `Plugins that declare ${key} get version ${version}’s value at once, as version ${seen + 1}. The value is copied inside the service: it is never shown here. A later change or rollback can undo this.`,
      `Roll back to version ${version}`,
    );
    if (!confirmed) return announce(`${key} was not rolled back.`, 'info');
    await act(async () => {
      await context.api.call('POST', `/secrets/${key}/rollback`, { json: { toVersion: version }, ifMatch: seen });
      return `Rolled ${key} back to version ${version}’s value, as version ${seen + 1}.`;
    });
  };

  const destroy = async (version: number) => {
    const confirmed = await confirmAction(
      `Destroy version ${version} of ${key}?`,
      `This cannot be undone. The value version ${version} sealed can never be read, resolved or rolled back to again, by anyone, from this database or from any backup taken afterwards (backups taken before still hold it). The history keeps the version, marked destroyed.`,
      `Destroy version ${version}`,
    );
    if (!confirmed) return announce(`Version ${version} of ${key} was not destroyed.`, 'info');
    await act(async () => {
      await context.api.call('DELETE', `/secrets/${key}/versions/${version}`);
      return `Destroyed the value of version ${version} of ${key}. It can never be opened again.`;
    });
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
        h('thead', {}, h('tr', {}, ...columns.map((label) => h('th', { scope: 'col' }, label)))),
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
