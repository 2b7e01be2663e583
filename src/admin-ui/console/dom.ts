/**
 * The one way the console builds DOM: elements with attributes and text nodes. Nothing is ever
 * parsed as HTML, so a description or a token name can never become markup.
 */
export type Child = Node | string | number | null | undefined | false;
type Attributes = Record<string, string | number | boolean | null | undefined | EventListener>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attributes: Attributes = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (typeof value === 'function') element.addEventListener(name.replace(/^on/, ''), value);
    else if (value === true) element.setAttribute(name, '');
    else if (value !== false && value !== null && value !== undefined) element.setAttribute(name, String(value));
  }
  element.append(...nodes(children));
  return element;
}

export function nodes(children: Child[]): (Node | string)[] {
  return children.filter((child) => child !== null && child !== undefined && child !== false).map((child) => (typeof child === 'number' ? String(child) : child)) as (Node | string)[];
}

/** Text for screen readers only: a row's "Remove" button is read as "Remove FIFTYONE_CVAT_URL". */
export const hidden = (text: string) => h('span', { class: 'visually-hidden' }, text);

/** A button whose visible label is short and whose accessible name says what it acts on. */
export function actionButton(label: string, subject: string, onClick: () => void, kind = 'secondary'): HTMLButtonElement {
  return h('button', { type: 'button', class: kind, onclick: onClick, 'data-action': `${label} ${subject}` }, label, hidden(` ${subject}`));
}

/**
 * Re-renders `container` (a live refresh) without taking keyboard focus away from the row
 * button the user is on: the new button for the same action and subject gets it back.
 */
export function keepingFocus(container: HTMLElement, render: () => void): void {
  const active = document.activeElement;
  const action = active instanceof HTMLElement && container.contains(active) ? active.dataset.action : undefined;
  render();
  if (action) Array.from(container.querySelectorAll<HTMLElement>('[data-action]')).find((e) => e.dataset.action === action)?.focus();
}

/**
 * A table in a box of its own that scrolls sideways when the window is narrower than the table,
 * so the page itself never does. The box is focusable and named by the table's caption, so a
 * keyboard can scroll it and a screen reader says what it holds.
 */
export function scrollBox(table: HTMLTableElement): HTMLElement {
  const caption = table.caption;
  if (caption && !caption.id) caption.id = uniqueId('table-caption');
  return h('div', { class: 'table-scroll', role: 'region', tabindex: 0, 'aria-labelledby': caption?.id }, table);
}

let ids = 0;
/** Ids for label/field/error links; unique per page load. */
export const uniqueId = (prefix: string) => `${prefix}-${++ids}`;

/** A time as the log's UTC, with the reader's local time on hover. */
export function time(iso: string): HTMLTimeElement {
  const date = new Date(iso);
  return h('time', { datetime: iso, title: Number.isNaN(date.getTime()) ? null : `${date.toLocaleString()} local time` }, formatTime(iso));
}

/** UTC, to the second: the log's own clock, the same for every reader of the trail. */
export function formatTime(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : `${date.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}
