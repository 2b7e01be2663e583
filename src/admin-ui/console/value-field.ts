import { SECRET_VALUE_MAX_BYTES } from '../../secrets/domain/secret-key';
import { h, uniqueId } from './dom';
import { type Field, field } from './fields';

/**
 * A secret's value as the admin enters it: typed or pasted into a multi-line field, or loaded
 * from a file. What is sent is exactly what was entered — newlines, trailing spaces, Unicode —
 * because a PEM key or a JSON credential broken on its way in fails only later, in a plugin.
 *
 * The field is masked (`-webkit-text-security`, in the stylesheet) until the admin ticks "Show
 * the value": a multi-line `<input type=password>` does not exist. It is never filled from the
 * server. A loaded file's text is kept out of the page altogether (not put in the field): the
 * field would turn its CR LF line ends into LF, and the point of "from file" is the file as is.
 */
export interface ValueField extends Field<HTMLTextAreaElement> {
  /** The value to send: the loaded file's text, or else what is typed. */
  value(): string;
  /** Empties the field and forgets a loaded file, and masks the field again. */
  clear(): void;
}

export function valueField(label: string, hint: string, required: boolean): ValueField {
  const control = h('textarea', {
    name: 'value',
    class: 'value masked',
    rows: 4,
    autocomplete: 'off',
    autocapitalize: 'off',
    spellcheck: 'false',
    required,
  });
  const show = h('input', { type: 'checkbox', id: uniqueId('show-value'), class: 'inline' });
  const file = h('input', { type: 'file', id: uniqueId('value-file'), class: 'inline' });
  const forgetFile = h('button', { type: 'button', class: 'secondary', hidden: true }, 'Type the value instead');
  const count = h('p', { id: uniqueId('value-count'), class: 'hint count' });
  const options = h(
    'div',
    { class: 'value-options' },
    h('span', { class: 'option' }, show, h('label', { for: show.id, class: 'inline' }, 'Show the value')),
    h('span', { class: 'option' }, h('label', { for: file.id, class: 'inline' }, 'Or load it from a file'), file),
    forgetFile,
  );
  const base = field(label, control, hint, [options, count]);
  let loaded: { name: string; text: string } | null = null;

  const current = () => (loaded ? loaded.text : control.value);
  const recount = () => {
    count.textContent = `${loaded ? `From ${loaded.name}: ` : ''}${describeText(current())}`;
  };
  const useFile = (next: { name: string; text: string } | null) => {
    loaded = next;
    control.value = '';
    control.disabled = next !== null;
    show.disabled = next !== null;
    forgetFile.hidden = next === null;
    if (!next) file.value = '';
    recount();
  };

  control.addEventListener('input', recount);
  show.addEventListener('change', () => control.classList.toggle('masked', !show.checked));
  forgetFile.addEventListener('click', () => {
    useFile(null);
    control.focus();
  });
  file.addEventListener('change', () => {
    base.clearError();
    const chosen = file.files?.[0];
    if (!chosen) return useFile(null);
    void readText(chosen).then(
      (text) => useFile({ name: chosen.name, text }),
      (problem: Error) => {
        useFile(null);
        base.showError(problem.message);
      },
    );
  });
  recount();

  return {
    ...base,
    value: current,
    clear() {
      useFile(null);
      show.checked = false;
      control.classList.add('masked');
      recount();
    },
  };
}

/**
 * A file's text, byte for byte: UTF-8 with a byte-order mark kept (`File.text()` would drop it)
 * and anything that is not UTF-8 refused rather than replaced with U+FFFD. A file over the
 * value limit is refused before it is read, so picking a disk image by mistake costs nothing.
 */
async function readText(file: File): Promise<string> {
  if (file.size === 0) throw new Error(`${file.name} is empty: a secret cannot be empty.`);
  if (file.size > SECRET_VALUE_MAX_BYTES) throw new Error(`${file.name} is ${formatNumber(file.size)} bytes; a value is at most ${formatNumber(SECRET_VALUE_MAX_BYTES)} bytes.`);
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(await file.arrayBuffer());
  } catch {
    throw new Error(`${file.name} is not UTF-8 text: a value is text. Encode binary data (base64, for example) and load that.`);
  }
}

/** "3 lines, 1,704 bytes of UTF-8, ending with a line break": what a masked field holds. */
function describeText(text: string): string {
  if (text === '') return 'Empty.';
  const lines = lineCount(text);
  const bytes = new TextEncoder().encode(text).length;
  const ending = /[\r\n]$/.test(text) ? ', ending with a line break' : '';
  return `${lines} ${lines === 1 ? 'line' : 'lines'}, ${formatNumber(bytes)} ${bytes === 1 ? 'byte' : 'bytes'} of UTF-8${ending}.`;
}

/** Lines as an editor counts them, a final line break ending the last line rather than starting one. */
function lineCount(text: string): number {
  const breaks = text.match(/\r\n|\r|\n/g)?.length ?? 0;
  return /[\r\n]$/.test(text) ? breaks : breaks + 1;
}

const formatNumber = (n: number) => n.toLocaleString('en');
