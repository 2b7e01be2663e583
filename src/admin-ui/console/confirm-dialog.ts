import { h } from './dom';

/**
 * Asks before a destructive action, in a modal `<dialog>` (focus is trapped and Escape cancels,
 * both by the browser). Resolves true only when the confirming button was pressed.
 */
export function confirmAction(title: string, explanation: string, confirmLabel: string): Promise<boolean> {
  return new Promise((resolve) => {
    const dialog = h(
      'dialog',
      { class: 'confirm', 'aria-labelledby': 'confirm-title', 'aria-describedby': 'confirm-text' },
      h('h2', { id: 'confirm-title' }, title),
      h('p', { id: 'confirm-text' }, explanation),
    );
    const finish = (confirmed: boolean) => {
      dialog.close();
      dialog.remove();
      resolve(confirmed);
    };
    const cancel = h('button', { type: 'button', class: 'secondary', onclick: () => finish(false) }, 'Cancel');
    dialog.append(h('div', { class: 'actions' }, h('button', { type: 'button', class: 'danger', onclick: () => finish(true) }, confirmLabel), cancel));
    dialog.addEventListener('cancel', (event) => {
      event.preventDefault();
      finish(false);
    });
    document.body.append(dialog);
    dialog.showModal();
    cancel.focus();
  });
}
