import { StoredEventType } from '../../../event-store/stored-event-types';
import { ApiError, type AuditEntry, type SecretMeta } from '../api';
import { confirmAction } from '../confirm-dialog';
import { actionButton, h, hidden, keepingFocus, scrollBox, time } from '../dom';
import { expiryMark } from '../expiry-mark';
import { announce } from '../status';
import { secretForm, type SecretFormMode } from './secret-form';
import { canChange, type Context, type View } from './view';

const ROWS_PER_PAGE = 25;

type Column = 'key' | 'version' | 'updatedAt';
const COLUMN_LABELS: Record<Column, string> = { key: 'Key', version: 'Version', updatedAt: 'Last change' };

/**
 * Every secret's metadata, read through the API's cursor (all pages, so that sorting and the
 * filter cover every secret), shown a page at a time. Admins add, change and remove here;
 * auditors read.
 */
export function secretsView(context: Context): View {
  const editable = canChange(context);
  let secrets: SecretMeta[] = [];
  let sort: { column: Column; ascending: boolean } = { column: 'key', ascending: true };
  let filter = '';
  let page = 0;
  let loaded = false;

  const formSlot = h('div');
  const caption = h('caption');
  const headRow = h('tr');
  const body = h('tbody');
  const pager = h('nav', { class: 'pager', 'aria-label': 'Secrets pages' });
  const filterBox = h('input', { id: 'secrets-filter', type: 'search', name: 'filter', autocomplete: 'off', 'aria-controls': 'secrets-table' });
  filterBox.addEventListener('input', () => {
    filter = filterBox.value.trim().toLowerCase();
    page = 0;
    render();
  });

  const load = async () => {
    secrets = await context.api.all<SecretMeta>('/secrets');
    loaded = true;
    keepingFocus(body, render);
  };

  const openForm = (mode: SecretFormMode) => {
    formSlot.replaceChildren(
      secretForm(context, mode, {
        saved(secret) {
          upsert(secret);
          formSlot.replaceChildren();
        },
        current(secret) {
          if (secret) upsert(secret);
          else if (mode.kind === 'change') drop(mode.secret.key);
          if (!secret) formSlot.replaceChildren();
        },
        closed: () => formSlot.replaceChildren(),
      }),
    );
  };

  const upsert = (secret: SecretMeta) => {
    secrets = [...secrets.filter((s) => s.key !== secret.key), secret];
    render();
  };
  const drop = (key: string) => {
    secrets = secrets.filter((s) => s.key !== key);
    render();
  };

  const remove = async (secret: SecretMeta) => {
    const confirmed = await confirmAction(
      `Remove ${secret.key}?`,
      `Plugins that declare ${secret.key} stop getting a value at once. The removal is recorded in the audit trail; adding the key again starts a new version.`,
      `Remove ${secret.key}`,
    );
    if (!confirmed) return announce(`${secret.key} was not removed.`, 'info');
    try {
      await context.api.call('DELETE', `/secrets/${secret.key}`, { ifMatch: secret.version });
      drop(secret.key);
      announce(`Removed ${secret.key}. Plugins that declare it no longer get a value.`);
    } catch (error) {
      if (!(error instanceof ApiError) || (error.status !== 412 && error.status !== 404)) throw error;
      await load();
      announce(
        error.status === 404
          ? `${secret.key} had already been removed by someone else.`
          : `${secret.key} was not removed: it was changed by someone else since you loaded the list (you saw version ${secret.version}). The table now shows its current version; check it and remove it again if you still mean to.`,
        'error',
      );
    }
  };

  const sortHeader = (column: Column) => {
    const active = sort.column === column;
    const button = h(
      'button',
      {
        type: 'button',
        class: 'sort',
        onclick: () => {
          sort = { column, ascending: active ? !sort.ascending : true };
          page = 0;
          render();
        },
      },
      COLUMN_LABELS[column],
      hidden(active ? (sort.ascending ? ', sorted ascending' : ', sorted descending') : ', sortable'),
    );
    return h('th', { scope: 'col', 'aria-sort': active ? (sort.ascending ? 'ascending' : 'descending') : null }, button);
  };

  const visible = () => {
    const matching = secrets.filter((s) => filter === '' || s.key.toLowerCase().includes(filter) || s.description.toLowerCase().includes(filter));
    const direction = sort.ascending ? 1 : -1;
    return matching.sort((a, b) => {
      const x = a[sort.column];
      const y = b[sort.column];
      return (x < y ? -1 : x > y ? 1 : a.key < b.key ? -1 : 1) * direction;
    });
  };

  const row = (secret: SecretMeta) =>
    h(
      'tr',
      { 'data-key': secret.key },
      h('th', { scope: 'row' }, h('code', {}, secret.key), secret.expiresAt !== undefined && ' ', expiryMark(secret)),
      h('td', {}, secret.description || h('span', { class: 'muted' }, '—')),
      h('td', { class: 'number' }, secret.version),
      h('td', {}, time(secret.updatedAt), ` by ${secret.updatedBy}`),
      h(
        'td',
        { class: 'row-actions' },
        h('a', { href: `#/secrets/${secret.key}/history`, class: 'button secondary', 'data-action': `History ${secret.key}` }, 'History', hidden(` of ${secret.key}`)),
        editable && actionButton('Change', secret.key, () => openForm({ kind: 'change', secret })),
        editable && actionButton('Remove', secret.key, () => void remove(secret), 'danger'),
      ),
    );

  const render = () => {
    const rows = visible();
    const pages = Math.max(1, Math.ceil(rows.length / ROWS_PER_PAGE));
    page = Math.min(page, pages - 1);
    const shown = rows.slice(page * ROWS_PER_PAGE, (page + 1) * ROWS_PER_PAGE);
    caption.textContent = !loaded
      ? 'Secrets (loading)'
      : filter
        ? `Secrets matching “${filterBox.value.trim()}”: ${rows.length} of ${secrets.length}`
        : `Secrets: ${secrets.length}, values never shown`;
    headRow.replaceChildren(sortHeader('key'), h('th', { scope: 'col' }, 'Description'), sortHeader('version'), sortHeader('updatedAt'), h('th', { scope: 'col' }, 'Actions'));
    body.replaceChildren(
      ...(shown.length > 0
        ? shown.map(row)
        : [h('tr', {}, h('td', { colspan: 5, class: 'muted' }, !loaded ? 'Loading…' : secrets.length === 0 ? 'No secrets yet.' : 'No secret matches the filter.'))]),
    );
    pager.replaceChildren();
    if (pages > 1) {
      pager.append(
        h('button', { type: 'button', class: 'secondary', disabled: page === 0, onclick: () => ((page -= 1), render()) }, 'Previous page'),
        h('span', { 'aria-live': 'polite' }, `Page ${page + 1} of ${pages}`),
        h('button', { type: 'button', class: 'secondary', disabled: page === pages - 1, onclick: () => ((page += 1), render()) }, 'Next page'),
      );
    }
  };
  render();

  // Removed secrets are not in GET /secrets; the trail's SecretRemoved entries name them. Read
  // when the admin opens the panel, not on every poll.
  const removedBody = h('tbody');
  const removedPanel = h(
    'details',
    { class: 'panel removed' },
    h('summary', {}, 'Removed secrets'),
    scrollBox(
      h(
        'table',
        { id: 'removed-table' },
        h('caption', {}, 'Secrets removed and not added again, latest removal first'),
        h('thead', {}, h('tr', {}, ...['Key', 'Removed', 'Last version', 'History'].map((label) => h('th', { scope: 'col' }, label)))),
        removedBody,
      ),
    ),
  );
  const loadRemoved = async () => {
    const removals = await context.api.all<AuditEntry>(`/audit?type=${StoredEventType.SecretRemoved}`);
    const live = new Set(secrets.map((s) => s.key));
    const latest = new Map<string, AuditEntry>();
    for (const entry of removals) if (entry.key !== undefined && !live.has(entry.key)) latest.set(entry.key, entry);
    const rows = [...latest.values()].sort((a, b) => b.seq - a.seq);
    removedBody.replaceChildren(
      ...(rows.length > 0
        ? rows.map((entry) =>
            h(
              'tr',
              { 'data-key': entry.key },
              h('th', { scope: 'row' }, h('code', {}, entry.key)),
              h('td', {}, time(entry.at), ` by ${entry.actor.name}`),
              h('td', { class: 'number' }, entry.version !== undefined ? entry.version - 1 : ''),
              h('td', {}, h('a', { href: `#/secrets/${entry.key}/history` }, 'History', hidden(` of ${entry.key}`))),
            ),
          )
        : [h('tr', {}, h('td', { colspan: 4, class: 'muted' }, 'No removed secrets.'))]),
    );
  };
  removedPanel.addEventListener('toggle', () => {
    if (removedPanel.open) void loadRemoved().catch((error: unknown) => announce(`The removed secrets could not be loaded: ${error instanceof Error ? error.message : String(error)}`, 'error'));
  });

  const element = h(
    'section',
    { 'aria-labelledby': 'view-title' },
    h('h1', { id: 'view-title' }, 'Secrets'),
    h(
      'p',
      { class: 'lead' },
      editable
        ? 'Add, change and remove secrets. Values are write-only: nobody reads them back here, and every change is recorded in the audit trail.'
        : 'You are signed in as an auditor: you can read the secrets’ metadata and history, not change them.',
    ),
    h(
      'div',
      { class: 'toolbar' },
      editable && h('button', { type: 'button', onclick: () => openForm({ kind: 'add' }) }, 'Add secret'),
      h('div', { class: 'filter' }, h('label', { for: filterBox.id }, 'Filter'), filterBox),
    ),
    formSlot,
    scrollBox(h('table', { id: 'secrets-table' }, caption, h('thead', {}, headRow), body)),
    pager,
    removedPanel,
  );
  void load().catch((error: unknown) => announce(`The secrets could not be loaded: ${error instanceof Error ? error.message : String(error)}`, 'error'));
  return { title: 'Secrets', element, refresh: load };
}
