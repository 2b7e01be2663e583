/**
 * Every PostgreSQL advisory lock key the service takes, in one place so that no two uses share
 * a key by accident. Keys are 64-bit and database-wide; each starts with 0x534C ("SL") so that
 * another application on the same database is unlikely to pick the same numbers.
 */
export const ADVISORY_LOCKS = {
  /** Held (session level) while one instance runs the migrations; the others wait, then find none pending. */
  migrations: 0x534c_0000_0001,
} as const;
