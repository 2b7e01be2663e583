/**
 * Every PostgreSQL advisory lock key the service takes, in one place so that no two uses share
 * a key by accident. Keys are 64-bit and database-wide; each starts with 0x534C ("SL") so that
 * another application on the same database is unlikely to pick the same numbers.
 */
export const ADVISORY_LOCKS = {
  /** Held (session level) while one instance runs the migrations; the others wait, then find none pending. */
  migrations: 0x534c_0000_0001,
  /**
   * Taken (transaction level) by every append transaction before it reads the log's head, and
   * held until COMMIT: appends are serialised across every instance on the database, so `seq` is
   * gap-free in commit order (the holder's commit is visible before the next holder reads the
   * head) and the hash chain is one line.
   */
  logAppend: 0x534c_0000_0002,
  /** Held (session level) by the one instance whose relay publishes notifications. */
  notificationRelay: 0x534c_0000_0003,
  /** Held (session level) by the one instance that writes the audit checkpoints and ships them to the sink. */
  auditCheckpoints: 0x534c_0000_0004,
} as const;
