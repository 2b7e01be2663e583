/**
 * The status line: says what the last action did and stays until the next action. Background
 * refreshes (live updates) never write here, so "Changed X." cannot be overwritten by a reload.
 */
export type Tone = 'ok' | 'error' | 'info';

export function announce(text: string, tone: Tone = 'ok'): void {
  const status = document.getElementById('status');
  if (!status) return;
  status.textContent = text;
  status.className = `status ${tone}`;
}

export function clearStatus(): void {
  announce('', 'info');
}
