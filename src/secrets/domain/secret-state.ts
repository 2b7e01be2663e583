/** What the decider knows about one key: the fold of its stream. */
export type SecretState =
  | { status: 'absent'; version: 0 }
  | {
      status: 'active' | 'removed';
      key: string;
      version: number;
      description: string;
      createdAt: string;
      createdBy: string;
      updatedAt: string;
      updatedBy: string;
      /** The event whose ciphertext holds the current value (null once removed). */
      valueEventId: string | null;
      /** ISO-8601 UTC; absent: never expires. Expiry is a date to act on, never a deletion. */
      expiresAt?: string;
    };

export type PresentSecretState = Exclude<SecretState, { status: 'absent' }>;

export const ABSENT: SecretState = { status: 'absent', version: 0 };
