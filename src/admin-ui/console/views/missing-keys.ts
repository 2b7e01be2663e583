import type { AuditEntry, Page, SecretMeta } from '../api';
import { actionButton, h, hidden, keepingFocus, scrollBox, time } from '../dom';
import { type MissingKey, missingKeys } from '../missing-keys';
import { announce } from '../status';
import { secretForm } from './secret-form';
import { canChange, type Context, type View } from './view';

const WINDOWS = [
  { value: '1h', label: 'the last hour', ms: 3_600_000 },
  { value: '24h', label: 'the last 24 hours', ms: 86_400_000 },
  { value: '7d', label: 'the last 7 days', ms: 7 * 86_400_000 },
] as const;

/** The most resolves one look reads: a busy executor's week stays a few requests. */
const MAX_RESOLVES = 5_000;
const PAGE = 1_000;

/**
 * The `SecretsResolved` entries of a window, newest first, up to MAX_RESOLVES. The view fetches
 * again whenever the log moves, which on a busy service is every poll: an update reads only the
 * entries after the newest one held, and drops those that have left the window.
 */
class RecentResolves {
  resolves: AuditEntry[] = [];
  /** False when the window held more than MAX_RESOLVES: the oldest of them are not counted. */
  complete = true;

  constructor(
    private readonly context: Context,
    private readonly windowMs: number,
  ) {}

  async read(): Promise<void> {
    const { items, more } = await this.pages({ order: 'desc', from: this.from() });
    this.resolves = items;
    this.complete = !more;
  }

  async update(): Promise<void> {
    if (this.resolves.length === 0) return this.read();
    const { items, more } = await this.pages({ order: 'asc' }, this.resolves[0].seq + 1);
    // More arrived than one look holds: the window is read afresh, newest first.
    if (more) return this.read();
    const from = this.from();
    this.resolves = [...items.reverse(), ...this.resolves].filter((entry) => entry.at >= from);
    if (this.resolves.length > MAX_RESOLVES) {
      this.resolves.length = MAX_RESOLVES;
      this.complete = false;
    }
  }

  private from(): string {
    return new Date(Date.now() - this.windowMs).toISOString();
  }

  /**
   * The entries matching `filter`, page after page (`start`: the first page's first seq; a cursor
   * carries on from there), until the end or MAX_RESOLVES entries.
   */
  private async pages(filter: Record<string, string>, start?: number): Promise<{ items: AuditEntry[]; more: boolean }> {
    const items: AuditEntry[] = [];
    let position: Record<string, string> = start === undefined ? {} : { start: String(start) };
    for (;;) {
      const query = new URLSearchParams({ type: 'SecretsResolved', limit: String(PAGE), ...filter, ...position });
      const page: Page<AuditEntry> = await this.context.api.call('GET', `/audit?${query}`);
      items.push(...page.items);
      if (page.next === null) return { items, more: false };
      if (items.length >= MAX_RESOLVES) return { items, more: true };
      position = { after: page.next };
    }
  }
}

/**
 * Which declared keys executors find missing: the trail's recent resolves, gathered per key in the
 * browser (the audit API already filters by type and time), beside whether each key exists now.
 * Admins add a missing key from its row.
 */
export function missingKeysView(context: Context): View {
  const editable = canChange(context);
  const formSlot = h('div');
  const caption = h('caption');
  const body = h('tbody');
  const windowSelect = h('select', { id: 'missing-window', name: 'window' }, ...WINDOWS.map((w) => h('option', { value: w.value }, w.label)));
  windowSelect.value = '24h';
  const chosen = () => WINDOWS.find((w) => w.value === windowSelect.value) ?? WINDOWS[1];

  let recent = new RecentResolves(context, chosen().ms);
  /** `afresh`: the window changed, read it whole; otherwise only what is new since the last look. */
  const load = async (afresh = false) => {
    const window = chosen();
    if (afresh) recent = new RecentResolves(context, window.ms);
    const reading = recent;
    const [, secrets] = await Promise.all([afresh ? reading.read() : reading.update(), context.api.all<SecretMeta>('/secrets')]);
    // A window chosen meanwhile: its own load shows it.
    if (reading !== recent) return;
    const { resolves, complete } = reading;
    const live = new Set(secrets.map((secret) => secret.key));
    const keys = missingKeys(resolves);
    caption.textContent =
      `Keys missing in ${window.label}: ${keys.length}, from ${resolves.length.toLocaleString('en')} resolves` +
      (complete ? '' : ` (the newest ${MAX_RESOLVES.toLocaleString('en')} of the window)`) +
      ', most recently missing first';
    keepingFocus(body, () =>
      body.replaceChildren(
        ...(keys.length > 0 ? keys.map((key) => row(key, live.has(key.key))) : [h('tr', {}, h('td', { colspan: 6 }, `No resolve in ${window.label} found a key missing.`))]),
      ),
    );
  };

  const now = (key: MissingKey, exists: boolean) => {
    if (!exists) return 'missing';
    if (key.resolvedSinceAt !== null) return h('span', {}, 'added; resolved since, at ', time(key.resolvedSinceAt));
    return 'added; not resolved since';
  };

  const row = (key: MissingKey, exists: boolean) =>
    h(
      'tr',
      { 'data-key': key.key, class: exists ? 'present' : 'missing' },
      h('th', { scope: 'row' }, key.key),
      h('td', {}, key.plugins.join(', ')),
      h('td', { class: 'number' }, key.resolves),
      h('td', {}, time(key.lastMissingAt)),
      h('td', {}, now(key, exists)),
      h(
        'td',
        { class: 'row-actions' },
        exists
          ? h('a', { href: `#/secrets/${key.key}/history`, class: 'button secondary' }, 'History', hidden(` of ${key.key}`))
          : editable && actionButton('Add', key.key, () => openAdd(key.key)),
      ),
    );

  const openAdd = (key: string) => {
    const form = secretForm(
      context,
      { kind: 'add' },
      {
        saved: () => {
          formSlot.replaceChildren();
          void load();
        },
        current: () => formSlot.replaceChildren(),
        closed: () => formSlot.replaceChildren(),
      },
    );
    const keyField = form.querySelector<HTMLInputElement>('input[name=key]');
    if (keyField) {
      keyField.value = key;
      keyField.dispatchEvent(new Event('input'));
    }
    formSlot.replaceChildren(form);
    // After the form's own focus on the key: the key is filled in, the value is what is left.
    queueMicrotask(() => form.querySelector<HTMLElement>('[name=value]')?.focus());
  };

  windowSelect.addEventListener('change', () => {
    void load(true).then(
      () => announce(`Showing the keys missing in ${chosen().label}.`, 'info'),
      (error: unknown) => announce(`The missing keys could not be loaded: ${error instanceof Error ? error.message : String(error)}`, 'error'),
    );
  });

  const element = h(
    'section',
    { 'aria-labelledby': 'view-title' },
    h('h1', { id: 'view-title' }, 'Missing keys'),
    h(
      'p',
      { class: 'lead' },
      'Keys that plugins declare and executors asked for, but the service did not have, from the audit trail’s recent resolves. A key added since shows whether a later resolve found it.',
    ),
    h('div', { class: 'toolbar' }, h('div', { class: 'field' }, h('label', { for: windowSelect.id }, 'Resolves of'), windowSelect)),
    formSlot,
    scrollBox(
      h(
        'table',
        { id: 'missing-table' },
        caption,
        h('thead', {}, h('tr', {}, ...['Key', 'Plugins', 'Resolves missing it', 'Last missing', 'Now', 'Actions'].map((label) => h('th', { scope: 'col', class: label === 'Resolves missing it' ? 'number' : null }, label)))),
        body,
      ),
    ),
  );
  void load().catch((error: unknown) => announce(`The missing keys could not be loaded: ${error instanceof Error ? error.message : String(error)}`, 'error'));
  return { title: 'Missing keys', element, refresh: () => load() };
}
