import type { Api, Whoami } from '../api';

/** What every view gets: the signed-in caller and the API with their token. */
export interface Context {
  api: Api;
  who: Whoami;
}

export interface View {
  /** The view's heading, also the document title. */
  title: string;
  element: HTMLElement;
  /** Called when the log's head moved (a change elsewhere): fetch again, keep the user's place. */
  refresh?(): Promise<void>;
}

export const canChange = (context: Context) => context.who.role === 'admin';
