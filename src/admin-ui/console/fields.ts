import type { FieldProblem } from './api';
import { h, uniqueId } from './dom';

/**
 * A labelled form field with an error slot that is tied to it (`aria-describedby`) and marks it
 * `aria-invalid` while it shows a message.
 */
export interface Field<E extends HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement = HTMLInputElement> {
  name: string;
  control: E;
  wrapper: HTMLElement;
  showError(message: string): void;
  clearError(): void;
}

/**
 * `details` are shown after the control; those with an id are also read with it
 * (`aria-describedby`), like the value field's line and byte count.
 */
export function field<E extends HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement>(label: string, control: E, hint?: string, details: HTMLElement[] = []): Field<E> {
  const id = control.id || uniqueId(control.name || 'field');
  control.id = id;
  const error = h('p', { id: `${id}-error`, class: 'field-error', hidden: true });
  const hintElement = hint ? h('p', { id: `${id}-hint`, class: 'hint' }, hint) : null;
  const describedBy = () => [...details.map((d) => d.id), hintElement?.id, error.hidden ? null : error.id].filter(Boolean).join(' ');
  const refresh = () => {
    const ids = describedBy();
    if (ids) control.setAttribute('aria-describedby', ids);
    else control.removeAttribute('aria-describedby');
  };
  refresh();
  return {
    name: control.name,
    control,
    wrapper: h('div', { class: 'field' }, h('label', { for: id }, label), control, ...details, hintElement, error),
    showError(message) {
      error.textContent = message;
      error.hidden = false;
      control.setAttribute('aria-invalid', 'true');
      refresh();
    },
    clearError() {
      error.textContent = '';
      error.hidden = true;
      control.removeAttribute('aria-invalid');
      refresh();
    },
  };
}

/**
 * Puts each of the server's field errors beside the field it names. Returns the ones no field
 * here matches, for the form's own message.
 */
export function showFieldProblems(fields: Field<HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement>[], problems: FieldProblem[]): FieldProblem[] {
  const unmatched: FieldProblem[] = [];
  for (const problem of problems) {
    const target = fields.find((f) => f.name === problem.field);
    if (target) target.showError(sentence(problem.field, problem.message));
    else unmatched.push(problem);
  }
  fields.find((f) => f.control.getAttribute('aria-invalid') === 'true')?.control.focus();
  return unmatched;
}

/** "key must be upper snake case" → "Key must be upper snake case." */
function sentence(fieldName: string, message: string): string {
  const text = `${fieldName.charAt(0).toUpperCase()}${fieldName.slice(1)} ${message}`;
  return /[.!?]$/.test(text) ? text : `${text}.`;
}
