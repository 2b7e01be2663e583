/**
 * Shapes of the HTTP API's answers (SPEC §3) that clients of this repository read: the admin
 * CLI and the console. Types only, no imports, so the browser bundle can share them.
 */
export interface SecretMeta {
  key: string;
  description: string;
  version: number;
  createdAt: string;
  updatedAt: string;
  createdBy: string;
  updatedBy: string;
}
