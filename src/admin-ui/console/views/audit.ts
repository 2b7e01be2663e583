import { STORED_EVENT_TYPES, StoredEventType } from '../../../event-store/stored-event-types';
import { ApiError, type AuditEntry, type Page, type VerifyResult } from '../api';
import { summarize } from '../audit-summary';
import { copyText } from '../clipboard';
import { formatTime, h, scrollBox, time } from '../dom';
import { field, showFieldProblems } from '../fields';
import { announce } from '../status';
import type { Context, View } from './view';

const PAGE_SIZE = 50;

/**
 * The audit trail for reviewers: filtered, paged through the API's cursor, exported with the
 * same filters, and the chain verified with its head ready to pin elsewhere.
 */
export function auditView(context: Context): View {
  const type = field('Type', h('select', { name: 'type' }, h('option', { value: '' }, 'any type'), ...STORED_EVENT_TYPES.map((t) => h('option', { value: t }, t))));
  const key = field('Key', h('input', { name: 'key', autocomplete: 'off', spellcheck: 'false' }), 'A secret key: its changes and the resolves that asked for it.');
  const actor = field('Actor', h('input', { name: 'actor', autocomplete: 'off', spellcheck: 'false' }), 'A token’s name or id (tok_…), or system, as in the Actor column.');
  const from = field('From', h('input', { name: 'from', type: 'datetime-local', step: 1 }), 'UTC, inclusive.');
  const to = field('To', h('input', { name: 'to', type: 'datetime-local', step: 1 }), 'UTC, exclusive.');
  const order = field('Order', h('select', { name: 'order' }, h('option', { value: 'desc' }, 'newest first'), h('option', { value: 'asc' }, 'oldest first')));
  const fields = [type, key, actor, from, to, order];
  const seqField = field('Seq', h('input', { name: 'start', type: 'number', min: 1, step: 1, inputmode: 'numeric', autocomplete: 'off' }), 'The entry to start the page at, in the chosen order.');

  // The cursors of the pages before the current one, so "Previous page" can go back.
  let cursors: (string | null)[] = [];
  let current: string | null = null;
  let next: string | null = null;
  let filters = new URLSearchParams();
  // Newest first unless the reviewer asks otherwise: "what just happened" is the usual question.
  let direction: 'desc' | 'asc' = 'desc';
  // A seq the first page starts at (jump to a seq), or null for the newest (or oldest) entry.
  let start: number | null = null;

  const body = h('tbody', {}, h('tr', {}, h('td', { colspan: 6, class: 'muted' }, 'Loading…')));
  const caption = h('caption', {}, 'Audit entries');
  const pager = h('nav', { class: 'pager', 'aria-label': 'Audit pages' });
  const verifyResult = h('div', { class: 'verify-result' });
  const checkpointsFile = field(
    'Checkpoints file',
    h('input', { name: 'checkpoints', type: 'file', accept: '.jsonl,.ndjson,.json,.txt' }),
    'The file the checkpoint sink wrote, kept off this machine: one signed checkpoint a line.',
  );
  const publicKeyFile = field(
    'Signer’s public PEM (optional)',
    h('input', { name: 'publicKey', type: 'file', accept: '.pem,.txt' }),
    'The public key (PEM) as you keep it elsewhere. Without it the signatures are checked with the key this service reports, which someone who controls it could replace.',
  );

  const readFilters = (): URLSearchParams => {
    const query = new URLSearchParams();
    for (const f of fields) {
      if (f === order) continue;
      const value = f.control.value.trim();
      if (value === '') continue;
      // datetime-local has no zone: the console speaks UTC, like the log.
      query.set(f.name, f.name === 'from' || f.name === 'to' ? `${value.length === 16 ? `${value}:00` : value}Z` : value);
    }
    return query;
  };

  const load = async () => {
    const query = new URLSearchParams(filters);
    query.set('limit', String(PAGE_SIZE));
    query.set('order', direction);
    if (current !== null) query.set('after', current);
    else if (start !== null) query.set('start', String(start));
    const page = await context.api.call<Page<AuditEntry>>('GET', `/audit?${query}`);
    next = page.next ?? null;
    const from = start !== null ? `from seq ${start}` : `page ${cursors.length + 1}`;
    caption.textContent = `Audit entries${filters.size > 0 ? ' matching the filters' : ''}, ${from}, ${direction === 'desc' ? 'newest' : 'oldest'} first`;
    body.replaceChildren(...(page.items.length > 0 ? page.items.map(row) : [h('tr', {}, h('td', { colspan: 6, class: 'muted' }, 'No entries match.'))]));
    renderPager();
  };

  const row = (entry: AuditEntry) =>
    h(
      'tr',
      {},
      h('th', { scope: 'row', class: 'number' }, entry.seq),
      h('td', {}, time(entry.at)),
      h('td', {}, entry.type),
      h('td', {}, entry.key ? h('code', {}, entry.key, entry.version !== undefined ? ` v${entry.version}` : '') : ''),
      h('td', {}, entry.actor.name, h('br'), h('code', { class: 'muted' }, entry.actor.id)),
      h('td', { class: 'data' }, h('details', {}, h('summary', {}, summarize(entry)), h('pre', {}, h('code', {}, JSON.stringify(entry.data, null, 2))))),
    );

  const renderPager = () => {
    pager.replaceChildren(
      h('button', { type: 'button', class: 'secondary', onclick: () => void newest() }, 'Newest entries'),
      h('button', { type: 'button', class: 'secondary', disabled: cursors.length === 0, onclick: () => void go(cursors.slice(0, -1), cursors[cursors.length - 1] ?? null) }, 'Previous page'),
      h('button', { type: 'button', class: 'secondary', disabled: next === null, onclick: () => void go([...cursors, current], next) }, 'Next page'),
    );
  };

  const newest = async () => {
    direction = 'desc';
    order.control.value = direction;
    start = null;
    await go([], null);
  };

  const jump = async (event: Event) => {
    event.preventDefault();
    seqField.clearError();
    const seq = Number(seqField.control.value);
    if (!Number.isSafeInteger(seq) || seq < 1) {
      seqField.showError('Enter a seq, a whole number of at least 1.');
      return;
    }
    start = seq;
    if ((await go([], null)) === true) announce(`Showing the entries from seq ${seq}, ${direction === 'desc' ? 'newest' : 'oldest'} first.`);
  };

  const go = async (before: (string | null)[], at: string | null) => {
    cursors = before;
    current = at;
    return run(async () => (await load(), true), 'The page could not be loaded');
  };

  /**
   * The id of the one token with this name, from the trail's own TokenIssued entries (so an
   * auditor, who cannot list tokens, can filter by name too). None or several: says so beside the
   * field and gives undefined, never an empty page that looks like "nobody did anything".
   */
  const actorIdOf = async (name: string): Promise<string | undefined> => {
    const issued = await context.api.all<AuditEntry>(`/audit?type=${StoredEventType.TokenIssued}`);
    const matches = issued.filter((entry) => (entry.data as { name?: unknown }).name === name);
    if (matches.length === 1) return String((matches[0].data as { id: unknown }).id);
    const message =
      matches.length === 0
        ? `No token is named “${name}”. Enter a token’s name or its id (tok_…).`
        : `${matches.length} tokens are named “${name}”: ${matches.map((m) => `${String((m.data as { id: unknown }).id)} (${String((m.data as { role?: unknown }).role)}, issued ${formatTime(m.at)})`).join('; ')}. Enter the id of the one you mean.`;
    actor.showError(message);
    announce(`The filters were not applied: ${message}`, 'error');
    return undefined;
  };

  const run = async <T>(action: () => Promise<T>, failure: string): Promise<T | undefined> => {
    try {
      return await action();
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      const unmatched = showFieldProblems(fields, error.problem.errors ?? []);
      announce(`${failure}: ${error.problem.detail}${unmatched.length ? ` (${unmatched.map((e) => `${e.field} ${e.message}`).join('; ')})` : ''}`, 'error');
      return undefined;
    }
  };

  const apply = async (event: Event) => {
    event.preventDefault();
    fields.forEach((f) => f.clearError());
    const wanted = readFilters();
    const named = wanted.get('actor');
    if (named !== null && !isActorId(named)) {
      const id = await run(() => actorIdOf(named), 'The actor could not be looked up');
      if (id === undefined) return;
      wanted.set('actor', id);
    }
    filters = wanted;
    direction = order.control.value === 'asc' ? 'asc' : 'desc';
    start = null;
    cursors = [];
    current = null;
    if ((await run(async () => (await load(), true), 'The filters were not applied')) === true) announce(filters.size > 0 ? `Showing the entries that match ${describe(filters)}.` : 'Showing every entry.');
  };

  const clear = async () => {
    fields.forEach((f) => ((f.control.value = f === order ? 'desc' : ''), f.clearError()));
    await apply(new Event('submit'));
  };

  const exportAs = async (format: 'ndjson' | 'csv') => {
    const query = new URLSearchParams(filters);
    query.set('format', format);
    await run(async () => {
      const blob = await context.api.blob(`/audit/export?${query}`);
      // A blob: URL holds the bytes already fetched with the token in a header; the token never
      // becomes part of a link.
      const url = URL.createObjectURL(blob);
      const link = h('a', { href: url, download: `audit.${format}`, hidden: true });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
      announce(`Exported the ${filters.size > 0 ? 'matching' : 'whole'} audit trail as audit.${format} (${blob.size} bytes).`);
    }, `The ${format.toUpperCase()} export failed`);
  };

  const verify = async (against?: { checkpoints: unknown[]; publicKey?: string }) => {
    verifyResult.replaceChildren(h('p', {}, 'Verifying…'));
    await run(async () => {
      const result = against
        ? await context.api.call<VerifyResult>('POST', '/audit/verify', { json: against })
        : await context.api.call<VerifyResult>('GET', '/audit/verify');
      const head = JSON.stringify({ seq: result.head.seq, hash: result.head.hash });
      verifyResult.replaceChildren(
        h(
          'p',
          { class: result.ok ? 'ok' : 'error' },
          verdict(result),
        ),
        h('dl', { class: 'head' }, h('dt', {}, 'Head seq'), h('dd', {}, h('code', { id: 'head-seq' }, result.head.seq)), h('dt', {}, 'Head hash'), h('dd', {}, h('code', { id: 'head-hash' }, result.head.hash))),
        h('button', { type: 'button', class: 'secondary', onclick: () => void copyText(head, 'the head') }, 'Copy head'),
        h('p', { class: 'hint' }, 'Pin the head somewhere this service cannot write (a ticket, another system): a later verify that ends on a different hash at that seq means the log was rewritten.'),
        ...checkpointFindings(result),
      );
      announce(result.ok ? `Verified the chain: intact, ${result.checked} entries, head seq ${result.head.seq}.` : `Verified: ${verdict(result)}`, result.ok ? 'ok' : 'error');
    }, 'The chain could not be verified');
  };

  /** The chosen checkpoints file (and key), read here and sent as JSON; nothing is uploaded as a file. */
  const verifyAgainstCheckpoints = async () => {
    checkpointsFile.clearError();
    const file = checkpointsFile.control.files?.[0];
    if (!file) return checkpointsFile.showError('Choose the checkpoints file the sink wrote.');
    const lines = (await file.text()).split('\n');
    const checkpoints: unknown[] = [];
    for (const [index, line] of lines.entries()) {
      if (line.trim() === '') continue;
      try {
        checkpoints.push(JSON.parse(line));
      } catch {
        return checkpointsFile.showError(`Line ${index + 1} of ${file.name} is not JSON: is it the sink's file?`);
      }
    }
    const keyFile = publicKeyFile.control.files?.[0];
    // The PEM's body: JSON text carries no line breaks.
    const publicKey = keyFile ? (await keyFile.text()).replace(/-----[^-]+-----|\s/g, '') : undefined;
    await verify({ checkpoints, ...(publicKey ? { publicKey } : {}) });
  };

  const element = h(
    'section',
    { 'aria-labelledby': 'view-title' },
    h('h1', { id: 'view-title' }, 'Audit trail'),
    h('p', { class: 'lead' }, 'Every change, resolve, refusal and token event, as the hash-chained log holds it. Values are never part of it.'),
    h(
      'form',
      { class: 'panel filters', 'aria-labelledby': 'filters-title', novalidate: true, onsubmit: apply },
      h('h2', { id: 'filters-title' }, 'Filters'),
      h('div', { class: 'grid' }, ...fields.map((f) => f.wrapper)),
      h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Apply filters'), h('button', { type: 'button', class: 'secondary', onclick: () => void clear() }, 'Clear filters')),
    ),
    h(
      'div',
      { class: 'columns' },
      h(
        'section',
        { class: 'panel', 'aria-labelledby': 'export-title' },
        h('h2', { id: 'export-title' }, 'Export'),
        h('p', { class: 'hint' }, 'The entries that match the filters, every page, as one file.'),
        h(
          'div',
          { class: 'actions' },
          h('button', { type: 'button', class: 'secondary', onclick: () => void exportAs('ndjson') }, 'Export NDJSON'),
          h('button', { type: 'button', class: 'secondary', onclick: () => void exportAs('csv') }, 'Export CSV'),
        ),
      ),
      h(
        'section',
        { class: 'panel', 'aria-labelledby': 'verify-title' },
        h('h2', { id: 'verify-title' }, 'Integrity'),
        h('p', { class: 'hint' }, 'Recompute every hash of the chain from the first entry to the head.'),
        h('div', { class: 'actions' }, h('button', { type: 'button', onclick: () => void verify() }, 'Verify chain')),
        h('p', { class: 'hint' }, 'What the chain alone cannot show — its newest entries deleted, or a row rewritten with every later hash recomputed — shows against the signed checkpoints kept elsewhere.'),
        checkpointsFile.wrapper,
        publicKeyFile.wrapper,
        h('div', { class: 'actions' }, h('button', { type: 'button', class: 'secondary', onclick: () => void verifyAgainstCheckpoints() }, 'Verify against checkpoints')),
        verifyResult,
      ),
    ),
    h(
      'form',
      { class: 'jump', 'aria-label': 'Go to an entry', novalidate: true, onsubmit: jump },
      seqField.wrapper,
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'secondary' }, 'Go to seq')),
    ),
    scrollBox(h('table', { class: 'audit' }, caption, h('thead', {}, h('tr', {}, ...['Seq', 'When (UTC)', 'Type', 'Key', 'Actor', 'What happened'].map((label) => h('th', { scope: 'col' }, label)))), body)),
    pager,
  );
  void run(load, 'The audit trail could not be loaded');
  return { title: 'Audit trail', element, refresh: load };
}

/** An actor id as the trail writes it; anything else in the actor field is a token's name. */
function isActorId(text: string): boolean {
  return text === 'system' || text.startsWith('tok_');
}

function describe(filters: URLSearchParams): string {
  return [...filters].map(([name, value]) => `${name} ${value}`).join(', ');
}

/** What a verify against checkpoints found: a sentence, then one item per problem (forged, rewritten, truncated). */
function checkpointFindings(result: VerifyResult): HTMLElement[] {
  const report = result.checkpoints;
  if (!report) return [];
  const sentence =
    report.problems.length === 0
      ? `The log agrees with all ${report.checked} checkpoints (key ${report.keyId}), the newest at seq ${report.newestSeq}.`
      : `${report.problems.length} of the ${report.checked} checkpoints disagree with the log (key ${report.keyId}):`;
  return [
    h('p', { class: report.problems.length === 0 ? 'ok' : 'error', id: 'checkpoint-verdict' }, sentence),
    ...(report.problems.length === 0
      ? []
      : [h('ul', { class: 'checkpoint-problems' }, ...report.problems.map((p) => h('li', {}, h('strong', {}, p.kind), ` at seq ${p.seq}: ${p.reason}`)))]),
  ];
}

/** What a verify found, in a sentence: the chain first, then any table that disagrees with the log. */
function verdict(result: VerifyResult): string {
  if ((result.checkpoints?.problems.length ?? 0) > 0 && result.brokenAt === undefined && (result.disagreements ?? []).length === 0) {
    return `The chain holds (${result.checked} entries), but not against the checkpoints.`;
  }
  if (result.brokenAt !== undefined) return `The chain is broken at seq ${result.brokenAt}: ${result.reason ?? 'no reason given'}.`;
  const disagreements = result.disagreements ?? [];
  if (disagreements.length === 0) return `The chain is intact: ${result.checked} entries checked.`;
  const named = disagreements.slice(0, 5).map((d) => `${d.table} ${d.key ?? d.id} ${d.field}`);
  const more = disagreements.length > named.length ? ` and ${disagreements.length - named.length} more` : '';
  return `The chain is intact (${result.checked} entries), but ${disagreements.length} stored field(s) disagree with the log: ${named.join('; ')}${more}.`;
}
