import type { SecretValue } from '../../crypto/secret-value';

export interface AddSecret {
  type: 'AddSecret';
  key: string;
  value: SecretValue;
  description?: string;
}

export interface UpdateSecret {
  type: 'UpdateSecret';
  key: string;
  value?: SecretValue;
  description?: string;
  /** From `If-Match`; absent means "whatever the current version is". */
  expectedVersion?: number;
}

export interface RemoveSecret {
  type: 'RemoveSecret';
  key: string;
  expectedVersion?: number;
}

export type SecretCommand = AddSecret | UpdateSecret | RemoveSecret;
