import { ApiError, type SecretMeta } from '../api';
import { formatTime, h } from '../dom';
import { type Field, field, showFieldProblems } from '../fields';
import { DESCRIPTION_MAX_LENGTH, SECRET_KEY_MAX_LENGTH, SECRET_KEY_PATTERN } from '../../../secrets/domain/secret-key';
import { announce } from '../status';
import { valueField } from '../value-field';
import type { Context } from './view';

const KEY_RULE = 'Upper snake case: capital letters, digits and single underscores between words, starting with a letter (for example FIFTYONE_CVAT_URL).';

export type SecretFormMode = { kind: 'add' } | { kind: 'change'; secret: SecretMeta };

export interface SecretFormEvents {
  /** The secret as the server now has it, after this form's change or a refused stale one. */
  saved(secret: SecretMeta): void;
  current(secret: SecretMeta | null): void;
  closed(): void;
}

/** Why a key is not acceptable, or null: the domain's own rule, checked as the user types. */
export function keyProblem(key: string): string | null {
  if (key === '') return 'Enter a key.';
  if (key.length > SECRET_KEY_MAX_LENGTH) return `The key is ${key.length} characters long; at most ${SECRET_KEY_MAX_LENGTH} are allowed.`;
  if (!SECRET_KEY_PATTERN.test(key)) return `${key} is not a valid key. ${KEY_RULE}`;
  return null;
}

/**
 * A description as a one-line field shows it: the field drops line breaks, which a description
 * stored before the API refused them may hold. Comparing with this keeps a value-only change
 * from rewriting such a description.
 */
const asOneLine = (text: string) => text.replace(/[\r\n]/g, '');

/**
 * "Add secret" and "Change KEY". The value is write-only: the form never fetches or shows the
 * current one, and clears whatever was typed once a save is over, successful or not.
 */
export function secretForm(context: Context, mode: SecretFormMode, events: SecretFormEvents): HTMLElement {
  let secret = mode.kind === 'change' ? mode.secret : null;
  const heading = h('h2', { id: 'secret-form-title' }, secret ? `Change ${secret.key}` : 'Add secret');

  const key = field('Key', h('input', { name: 'key', autocomplete: 'off', spellcheck: 'false', maxlength: SECRET_KEY_MAX_LENGTH, required: true }), KEY_RULE);
  const value = valueField(
    secret ? 'New value' : 'Value',
    secret
      ? 'Leave empty to keep the current value. Stored exactly as typed or loaded; the current value is never shown.'
      : 'Stored exactly as typed or loaded (line breaks, spaces, Unicode), encrypted, and never shown again.',
    !secret,
  );
  // One line: the API refuses a line break (any control character) in a description.
  const description = field(
    'Description',
    h('input', { name: 'description', autocomplete: 'off', maxlength: DESCRIPTION_MAX_LENGTH }),
    `Optional: what the secret is for, one line of at most ${DESCRIPTION_MAX_LENGTH.toLocaleString('en')} characters.`,
  );
  const expiresAt = field(
    'Expires at',
    h('input', { name: 'expiresAt', autocomplete: 'off', spellcheck: 'false', placeholder: '2027-01-31T00:00:00Z' }),
    'Optional: when the secret should be replaced, as an RFC 3339 date-time with its offset (Z for UTC). Leave empty for never. Expiry is a reminder and, where the service is set to refuse expired secrets, a stop: it never deletes anything.',
  );
  const fields: Field<HTMLInputElement | HTMLTextAreaElement>[] = secret ? [value, description, expiresAt] : [key, value, description, expiresAt];
  const formError = h('p', { class: 'field-error', role: 'alert', hidden: true });

  const showCurrent = (current: SecretMeta) => {
    secret = current;
    description.control.value = current.description;
    expiresAt.control.value = current.expiresAt ?? '';
  };
  if (secret) showCurrent(secret);

  key.control.addEventListener('input', () => {
    const problem = key.control.value === '' ? null : keyProblem(key.control.value);
    if (problem) key.showError(problem);
    else key.clearError();
  });

  const clearErrors = () => {
    fields.forEach((f) => f.clearError());
    formError.hidden = true;
  };

  const submit = async (event: Event) => {
    event.preventDefault();
    clearErrors();
    try {
      if (secret) await change(secret);
      else await add();
    } finally {
      value.clear();
    }
  };

  const add = async () => {
    const newKey = key.control.value.trim();
    const keyError = keyProblem(newKey);
    if (keyError) key.showError(keyError);
    const entered = value.value();
    if (entered === '') value.showError('Enter a value or load it from a file: a secret cannot be empty.');
    if (keyError || entered === '') {
      announce(`The secret was not added: correct the fields marked in the form. The value field was cleared.`, 'error');
      fields.find((f) => f.control.getAttribute('aria-invalid') === 'true')?.control.focus();
      return;
    }
    const body: Record<string, string> = { key: newKey, value: entered };
    if (description.control.value !== '') body.description = description.control.value;
    if (expiresAt.control.value.trim() !== '') body.expiresAt = expiresAt.control.value.trim();
    try {
      const added = await context.api.call<SecretMeta>('POST', '/secrets', { json: body });
      announce(`Added ${added.key} (version ${added.version}). Its value is stored encrypted and is not shown here.`);
      events.saved(added);
    } catch (error) {
      refused(error, `${newKey} was not added`);
    }
  };

  const change = async (current: SecretMeta) => {
    const body: Record<string, string | null> = {};
    if (value.value() !== '') body.value = value.value();
    if (description.control.value !== asOneLine(current.description)) body.description = description.control.value;
    const expiry = expiresAt.control.value.trim();
    // Empty clears the expiry; the text as shown leaves it (the service normalises what it stores).
    if (expiry !== (current.expiresAt ?? '')) body.expiresAt = expiry === '' ? null : expiry;
    if (Object.keys(body).length === 0) {
      description.showError('Nothing to save: enter a new value, or change the description or the expiry.');
      announce(`Nothing was changed on ${current.key}.`, 'info');
      return;
    }
    try {
      const changed = await context.api.call<SecretMeta>('PATCH', `/secrets/${current.key}`, { json: body, ifMatch: current.version });
      const what = [body.value !== undefined && 'value', body.description !== undefined && 'description', body.expiresAt !== undefined && 'expiry'].filter(Boolean).join(' and ');
      announce(`Changed the ${what} of ${changed.key} (now version ${changed.version}).`);
      events.saved(changed);
    } catch (error) {
      if (error instanceof ApiError && error.status === 412) return stale(current);
      if (error instanceof ApiError && error.status === 404) {
        announce(`${current.key} was removed by someone else while you were editing; nothing was changed.`, 'error');
        events.current(null);
        return;
      }
      refused(error, `${current.key} was not changed`);
    }
  };

  /** Someone changed the secret since this form opened: show what it is now, and say so. */
  const stale = async (edited: SecretMeta) => {
    let now: SecretMeta | null = null;
    try {
      now = await context.api.call<SecretMeta>('GET', `/secrets/${edited.key}`);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      if (error.status !== 404) {
        announce(`Your change was not saved: ${edited.key} was changed by someone else while you were editing, and reloading it failed (${error.problem.detail}).`, 'error');
        return;
      }
    }
    events.current(now);
    if (!now) {
      announce(`${edited.key} was removed by someone else while you were editing; your change was not saved.`, 'error');
      return;
    }
    showCurrent(now);
    announce(
      `Your change was not saved: ${now.key} was changed by ${now.updatedBy} at ${formatTime(now.updatedAt)} while you were editing ` +
        `(you had version ${edited.version}, it is now version ${now.version}). The form shows the current description; make your change again and save.`,
      'error',
    );
  };

  const refused = (error: unknown, what: string) => {
    if (!(error instanceof ApiError)) throw error;
    const { problem } = error;
    let unmatched = problem.errors ?? [];
    if (problem.status === 409 && !secret) key.showError(`${key.control.value} already exists: change it from its row in the table instead.`);
    else unmatched = showFieldProblems(fields, unmatched);
    const rest = unmatched.map((e) => `${e.field} ${e.message}`).join('; ');
    if (rest) {
      formError.textContent = rest;
      formError.hidden = false;
    }
    announce(`${what}: ${problem.detail} The value field was cleared; enter the value again.`, 'error');
  };

  const form = h(
    'form',
    { class: 'panel', 'aria-labelledby': heading.id, novalidate: true, onsubmit: submit },
    heading,
    ...fields.map((f) => f.wrapper),
    formError,
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, secret ? 'Save changes' : 'Add secret'), h('button', { type: 'button', class: 'secondary', onclick: () => events.closed() }, 'Cancel')),
  );
  queueMicrotask(() => (secret ? value : key).control.focus());
  return form;
}
