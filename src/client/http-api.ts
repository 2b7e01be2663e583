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
  /** ISO-8601 UTC; absent: never expires. */
  expiresAt?: string;
  /** Present when the expiry has passed, or falls within the service's warning window. */
  expiry?: 'expired' | 'expiring';
}

/** One item of `GET /api/v1/secrets/{key}/consumers` (SPEC §3): a token's last read of the key for one plugin. */
export interface SecretConsumer {
  tokenId: string;
  /** The token's name when it read. */
  tokenName: string;
  plugin: string;
  /** The key's version that read returned. */
  version: number;
  resolvedAt: string;
  /** Whether that version carries the key's current value (a description-only change leaves it current). */
  current: boolean;
  /** Not current more than a minute after the change, the secret still active and the token not revoked. */
  stale: boolean;
}
