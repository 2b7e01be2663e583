import { announce } from './status';

/** Copies text and says so; where the browser refuses, says how to copy by hand. */
export async function copyText(text: string, what: string): Promise<void> {
  try {
    await navigator.clipboard.writeText(text);
    announce(`Copied ${what} to the clipboard.`);
  } catch {
    announce(`The browser did not allow copying: select ${what} and copy it by hand.`, 'error');
  }
}
