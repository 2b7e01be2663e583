import type { SecretValue } from '../../crypto/secret-value';

export interface AddSecret {
  type: 'AddSecret';
  key: string;
  value: SecretValue;
  description?: string;
  /** RFC 3339; absent: the secret never expires. */
  expiresAt?: string;
}

export interface UpdateSecret {
  type: 'UpdateSecret';
  key: string;
  value?: SecretValue;
  description?: string;
  /** RFC 3339 to set the expiry, null to clear it, absent to leave it. */
  expiresAt?: string | null;
  /** From `If-Match`; absent means "whatever the current version is". */
  expectedVersion?: number;
}

export interface RemoveSecret {
  type: 'RemoveSecret';
  key: string;
  expectedVersion?: number;
}

/** Seal version `toVersion`'s value again as the next version; no one reads it on the way. */
export interface RollbackSecret {
  type: 'RollbackSecret';
  key: string;
  toVersion: number;
  expectedVersion?: number;
}

export type SecretCommand = AddSecret | UpdateSecret | RemoveSecret | RollbackSecret;

/** Delete the data key of the value `version` sealed, so that value never opens again. */
export interface DestroySecretVersion {
  type: 'DestroySecretVersion';
  key: string;
  version: number;
}
