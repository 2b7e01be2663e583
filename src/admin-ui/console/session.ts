import type { Whoami } from './api';

// sessionStorage: the token lives as long as this tab, is not shared with other tabs, and never
// goes into a URL or localStorage. The page's strict CSP keeps injected scripts from reading it.
const TOKEN_KEY = 'secrets-ledger.token';

export interface Session {
  token: string;
  who: Whoami;
}

export const storedToken = (): string | null => sessionStorage.getItem(TOKEN_KEY);
export const keepToken = (token: string): void => sessionStorage.setItem(TOKEN_KEY, token);
export const forgetToken = (): void => sessionStorage.removeItem(TOKEN_KEY);
