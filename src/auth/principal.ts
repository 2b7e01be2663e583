import { ROLES, type Role } from '../contract/api-types';
import type { Actor } from '../event-store/event';

export { ROLES, type Role };

/** The authenticated caller of a request: a token's identity, never the token itself. */
export interface Principal {
  id: string;
  name: string;
  role: Role;
  /** Executor tokens may be limited to these plugins; null means any plugin. */
  plugins: string[] | null;
}

export function actorOf(principal: Principal): Actor {
  return { id: principal.id, name: principal.name, role: principal.role };
}

/** The actor recorded for changes the service makes on its own (bootstrap, rotation from the CLI). */
export const SYSTEM_ACTOR: Actor = { id: 'system', name: 'system', role: 'system' };
