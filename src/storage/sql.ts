/**
 * The storage port: what the event store and the repositories above it may ask of a database.
 * Two adapters implement it — SQLite (`./sqlite`, the embedded default) and PostgreSQL
 * (`./postgres`, several instances on one database) — and nothing above `src/storage` knows
 * which one it runs on, except through `dialect` where the SQL itself differs.
 *
 * SQL is written once with `?` placeholders; the PostgreSQL adapter numbers them.
 */
export type SqlValue = string | number | Buffer | null;

export type Engine = 'sqlite' | 'postgres';

/** `?, ?, ?` for a list of `n` parameters. */
export const placeholders = (n: number) => new Array(n).fill('?').join(', ');

/** The few places where the two engines spell the same thing differently. */
export interface Dialect {
  readonly engine: Engine;
  /** `GREATEST` in PostgreSQL, the scalar `MAX` in SQLite. */
  greatest(a: string, b: string): string;
  /** The actor id inside the `actor` JSON text, exactly as the `events_by_actor` index spells it. */
  readonly actorId: string;
  /**
   * A filter on `type` that keeps the planner on the log's seq order: SQLite otherwise walks the
   * type index and sorts each call in a temporary B-tree (`+type` disables that index).
   */
  readonly typeColumnInSeqOrder: string;
  /**
   * An inner join whose left table the planner must start from: SQLite's CROSS JOIN pins the
   * order (PostgreSQL's planner chooses well on its own, and has no CROSS JOIN … ON).
   */
  readonly joinInThisOrder: string;
  /**
   * Whether one statement may write two tables (PostgreSQL's `WITH … INSERT … RETURNING`): there
   * a statement is a round trip of the batch's one connection, so two writes become one.
   */
  readonly writesInOneStatement: boolean;
}

/** A connection, or a transaction on one: what a repository runs its statements through. */
export interface SqlSession {
  readonly dialect: Dialect;
  /** Every row, as objects keyed by column name. */
  all<R extends object>(sql: string, params?: readonly SqlValue[]): Promise<R[]>;
  /** Every row as an array of column values: no object per row, for the hot reads. */
  values<R extends unknown[]>(sql: string, params?: readonly SqlValue[]): Promise<R[]>;
  get<R extends object>(sql: string, params?: readonly SqlValue[]): Promise<R | undefined>;
  /** Runs a statement that returns no rows; resolves with how many rows it changed. */
  run(sql: string, params?: readonly SqlValue[]): Promise<number>;
}

/** The transaction a write job runs in: its statements commit together with the batch's. */
export interface WriteTransaction extends SqlSession {
  /**
   * Rows to insert into `table` at the end of the batch, outside the savepoints, if this job
   * succeeds: the rows of every job of the batch go in together, a few statements in all (on
   * PostgreSQL each statement is a round trip).
   */
  deferInsert(table: string, columns: readonly string[], rows: readonly (readonly SqlValue[])[]): void;
  /**
   * Tells every instance on this database, once this transaction has committed, that something
   * happened on `channel` (a hint only, never data): PostgreSQL's NOTIFY; in-process on SQLite.
   */
  announce(channel: AnnouncedChannel): void;
}

/** The roles one instance holds at a time. */
export type LeadershipRole = 'notificationRelay';

/** The channels commits are announced on: secret-state changes, and tokens revoked. */
export type AnnouncedChannel = 'secret_changes' | 'token_revocations';

/**
 * One role that exactly one instance on a database holds at a time (the notification relay). An
 * instance that dies loses it with its connection, and another takes it over.
 */
export interface Leadership {
  /** Whether this instance holds the role now, taking it if nobody does. */
  holds(): Promise<boolean>;
  /** Whether it is known to hold the role, without asking anyone (false once its connection is lost). */
  readonly held: boolean;
  release(): Promise<void>;
}

/** Told about every batch (metrics): how many jobs it held and how long its transaction took. */
export interface WriterObserver {
  batchCommitted(jobs: number, seconds: number): void;
  batchFailed(jobs: number): void;
}

/** The storage fault the last batch met, until a batch commits again. */
export interface StorageFaultState {
  reason: string;
  code: string;
  since: string;
}

/** Something outside this process that holds every write up (readiness names it). */
export interface StorageBlocker {
  reason: string;
  [detail: string]: string | number;
}

/**
 * The unit of work and the reads. `transact` queues a job; jobs that arrive together share one
 * transaction (group commit), each in its own savepoint, and a job settles only once its batch
 * is durable. `reader` sees committed state only.
 */
export interface Storage {
  readonly dialect: Dialect;
  readonly reader: SqlSession;
  transact<T>(work: (tx: WriteTransaction) => Promise<T>): Promise<T>;
  readonly fault: StorageFaultState | undefined;
  /** Asks the database what holds writes up now (PostgreSQL: a session keeping the append lock past the limit). */
  blocker(): Promise<StorageBlocker | undefined>;
  observe(observer: WriterObserver): void;
  /** Calls `listener` after any instance's commit that announced on `channel`. */
  onAnnounced(channel: AnnouncedChannel, listener: () => void): void;
  /** The role `name`, held by one instance on the database at a time. */
  leadership(name: LeadershipRole): Leadership;
  close(): Promise<void>;
}

/** Injection token of the Storage the app runs on. */
export const STORAGE = Symbol('STORAGE');
