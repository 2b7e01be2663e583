import { placeholders } from './sql';
import type { AnnouncedChannel, Dialect, Leadership, LeadershipRole, SqlSession, SqlValue, Storage, StorageBlocker, StorageFaultState, WriteTransaction, WriterObserver } from './sql';
import { CommitOutcomeUnknownError, StorageUnavailableError } from './storage-fault';

type Job = {
  work: (tx: WriteTransaction) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
};

interface DeferredRows {
  table: string;
  columns: readonly string[];
  rows: readonly (readonly SqlValue[])[];
  /** An upsert on the first `keyColumns` columns; absent for a plain insert. */
  keyColumns?: number;
}

/** Rows per INSERT of deferred rows: far below either engine's limit on parameters. */
const DEFERRED_ROWS_PER_STATEMENT = 500;

/** Every job's deferred rows, one INSERT per table and chunk. */
async function insertDeferredRows(session: SqlSession, batches: readonly DeferredRows[]): Promise<void> {
  const byTarget = new Map<string, { table: string; columns: readonly string[]; keyColumns?: number; rows: (readonly SqlValue[])[] }>();
  for (const { table, columns, rows, keyColumns } of batches) {
    const target = `${table}(${columns.join(',')})${keyColumns ?? ''}`;
    const entry = byTarget.get(target) ?? { table, columns, keyColumns, rows: [] };
    entry.rows.push(...rows);
    byTarget.set(target, entry);
  }
  for (const { table, columns, keyColumns, rows } of byTarget.values()) {
    const tuple = `(${placeholders(columns.length)})`;
    const onConflict = keyColumns === undefined ? '' : upsertClause(columns, keyColumns);
    // PostgreSQL refuses a statement that upserts one row twice: the last row per key stands for them.
    const written = keyColumns === undefined ? rows : [...new Map(rows.map((row) => [JSON.stringify(row.slice(0, keyColumns)), row])).values()];
    for (let i = 0; i < written.length; i += DEFERRED_ROWS_PER_STATEMENT) {
      const chunk = written.slice(i, i + DEFERRED_ROWS_PER_STATEMENT);
      await session.run(`INSERT INTO ${table} (${columns.join(', ')}) VALUES ${chunk.map(() => tuple).join(', ')}${onConflict}`, chunk.flat());
    }
  }
}

function upsertClause(columns: readonly string[], keyColumns: number): string {
  const updated = columns.slice(keyColumns).map((column) => `${column} = excluded.${column}`);
  return ` ON CONFLICT (${columns.slice(0, keyColumns).join(', ')}) DO UPDATE SET ${updated.join(', ')}`;
}

/** A job's view of the batch's transaction; unusable once the job is over. */
class JobTransaction implements WriteTransaction {
  readonly deferredRows: DeferredRows[] = [];
  readonly announced = new Set<AnnouncedChannel>();
  private open = true;

  constructor(private readonly session: SqlSession) {}

  get dialect() {
    return this.session.dialect;
  }

  async all<R extends object>(sql: string, params?: readonly SqlValue[]): Promise<R[]> {
    return this.live().all<R>(sql, params);
  }

  async values<R extends unknown[]>(sql: string, params?: readonly SqlValue[]): Promise<R[]> {
    return this.live().values<R>(sql, params);
  }

  async get<R extends object>(sql: string, params?: readonly SqlValue[]): Promise<R | undefined> {
    return this.live().get<R>(sql, params);
  }

  async run(sql: string, params?: readonly SqlValue[]): Promise<number> {
    return this.live().run(sql, params);
  }

  deferInsert(table: string, columns: readonly string[], rows: readonly (readonly SqlValue[])[]): void {
    this.live();
    if (rows.length > 0) this.deferredRows.push({ table, columns, rows });
  }

  deferUpsert(table: string, columns: readonly string[], keyColumns: number, rows: readonly (readonly SqlValue[])[]): void {
    this.live();
    if (rows.length > 0) this.deferredRows.push({ table, columns, rows, keyColumns });
  }

  announce(channel: AnnouncedChannel): void {
    this.live();
    this.announced.add(channel);
  }

  close(): void {
    this.open = false;
  }

  /** A job that kept its transaction past its end would write into another job's savepoint. */
  private live(): SqlSession {
    if (!this.open) throw new Error('This write transaction has ended: its job settled already.');
    return this.session;
  }
}

/** One transaction of one engine, as the queue drives it. */
export interface BatchTransaction {
  readonly session: SqlSession;
  savepoint(): Promise<void>;
  release(): Promise<void>;
  /** Undoes the job since its savepoint and releases it. */
  rollbackToSavepoint(): Promise<void>;
  /**
   * Resolves once committed — a COMMIT whose answer was lost included, once the engine has learnt
   * that it committed. Throws when it did not commit, or CommitOutcomeUnknownError when the
   * engine could not learn which in time.
   */
  commit(): Promise<void>;
  rollback(): Promise<void>;
  /** False when the engine has rolled the whole transaction back on its own (SQLite on SQLITE_FULL). */
  stillOpen(): boolean;
  /** Before COMMIT: tells the other instances, at commit, of these channels (PostgreSQL's NOTIFY). */
  announce(channels: readonly AnnouncedChannel[]): Promise<void>;
}

/** What an engine brings to the queue: a way to begin a transaction, and its storage faults. */
export interface BatchEngine {
  begin(): Promise<BatchTransaction>;
  asFault(error: unknown): StorageUnavailableError | undefined;
}

/**
 * The one way to write: a FIFO queue with group commit, the same for both engines.
 *
 * Why one queue per process: every write (an append and the read model it updates) runs inside
 * one transaction, and batches run one at a time, so no two writes of this process interleave.
 * Across processes the engine serialises appends itself (SQLite's file lock; PostgreSQL's
 * advisory lock taken when a batch begins).
 *
 * Why group commit: a durable COMMIT is an fsync. Jobs that arrive while a batch is pending share
 * one transaction; each runs in its own savepoint, so one job's failure (a conflict, a validation
 * error) rolls back only that job. A job's promise settles only after the whole batch has
 * committed, so nothing is acknowledged before it is durable.
 *
 * Why it tracks storage faults: a full disk, a read-only file, a lost connection is no fault of
 * the request. Such errors reach callers as StorageUnavailableError (503 with Retry-After), and
 * `fault` says so (readiness) until a batch commits again.
 */
export class GroupCommitQueue {
  private queue: Job[] = [];
  private scheduled = false;
  private running = false;
  private currentFault: StorageFaultState | undefined;
  private observer: WriterObserver | undefined;

  constructor(
    private readonly engine: BatchEngine,
    private readonly maxBatch = 512,
    /** After each commit, with the channels its jobs announced: this instance's own listeners. */
    private readonly committed: (channels: readonly AnnouncedChannel[]) => void = () => undefined,
  ) {}

  observe(observer: WriterObserver): void {
    this.observer = observer;
  }

  get fault(): StorageFaultState | undefined {
    return this.currentFault && { ...this.currentFault };
  }

  transact<T>(work: (tx: WriteTransaction) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ work, resolve: resolve as (v: unknown) => void, reject });
      this.schedule();
    });
  }

  /** Resolves once every job queued so far has settled. */
  async idle(): Promise<void> {
    while (this.running || this.scheduled || this.queue.length > 0) await new Promise((resolve) => setImmediate(resolve));
  }

  private schedule(): void {
    if (this.scheduled || this.running) return;
    this.scheduled = true;
    // setImmediate lets requests that arrived in the same I/O turn join this batch.
    setImmediate(() => void this.drain());
  }

  private async drain(): Promise<void> {
    this.scheduled = false;
    const jobs = this.queue.splice(0, this.maxBatch);
    if (jobs.length === 0) return;
    this.running = true;
    try {
      await this.runBatch(jobs);
    } finally {
      this.running = false;
      if (this.queue.length > 0) this.schedule();
    }
  }

  private async runBatch(jobs: Job[]): Promise<void> {
    const started = process.hrtime.bigint();
    let batch: BatchTransaction;
    try {
      batch = await this.engine.begin();
    } catch (error) {
      // No transaction (no connection, the append lock held past its limit): the jobs queued
      // meanwhile would wait as long again for the same thing, so they share the refusal; none
      // of them has run, so nothing of theirs can commit later.
      const refused = [...jobs, ...this.queue.splice(0)];
      this.observer?.batchFailed(refused.length);
      const failure = this.noteFailure(error);
      refused.forEach((job) => job.reject(failure));
      return;
    }
    let outcome: { results: unknown[]; errors: unknown[]; announced: AnnouncedChannel[] };
    try {
      outcome = await this.inOneTransaction(batch, jobs);
    } catch (error) {
      // The batch as a whole failed (commit, deferred work, a fault that ended the transaction):
      // nothing in it is durable — or, for CommitOutcomeUnknownError, its callers are told so.
      this.observer?.batchFailed(jobs.length);
      const failure = this.noteFailure(error);
      jobs.forEach((job) => job.reject(failure));
      return;
    }
    this.observer?.batchCommitted(jobs.length, Number(process.hrtime.bigint() - started) / 1e9);
    if (outcome.announced.length > 0) this.committed(outcome.announced);
    // Over the jobs, not `errors`: that array has holes where jobs succeeded, which map() skips.
    const failures = jobs.map((_, i) => (outcome.errors[i] === undefined ? undefined : this.noteFailure(outcome.errors[i])));
    if (failures.includes(undefined)) this.currentFault = undefined;
    jobs.forEach((job, i) => {
      if (failures[i] !== undefined) job.reject(failures[i]);
      else job.resolve(outcome.results[i]);
    });
  }

  private async inOneTransaction(batch: BatchTransaction, jobs: Job[]): Promise<{ results: unknown[]; errors: unknown[]; announced: AnnouncedChannel[] }> {
    try {
      const results: unknown[] = new Array(jobs.length);
      const errors: unknown[] = new Array(jobs.length);
      const deferredRows: DeferredRows[] = [];
      const announced = new Set<AnnouncedChannel>();
      // A job alone in its batch needs no savepoint: if it fails, the whole transaction goes, which
      // is the same thing. (On PostgreSQL a savepoint is two round trips.)
      const alone = jobs.length === 1;
      for (let i = 0; i < jobs.length; i++) {
        const tx = new JobTransaction(batch.session);
        if (!alone) await batch.savepoint();
        try {
          results[i] = await jobs[i].work(tx);
          if (!alone) await batch.release();
          deferredRows.push(...tx.deferredRows);
          tx.announced.forEach((channel) => announced.add(channel));
        } catch (error) {
          errors[i] = error ?? new Error('write failed');
          // An engine that rolled the whole transaction back itself (SQLite on SQLITE_FULL, a
          // lost PostgreSQL connection) would have the later jobs run outside the batch: abort.
          if (!batch.stillOpen()) throw error;
          if (alone) {
            await batch.rollback();
            return { results, errors, announced: [] };
          }
          await batch.rollbackToSavepoint();
        } finally {
          tx.close();
        }
      }
      // If the deferred rows fail, the whole batch rolls back and every job is rejected.
      await insertDeferredRows(batch.session, deferredRows);
      if (announced.size > 0) await batch.announce([...announced]);
      await batch.commit();
      return { results, errors, announced: [...announced] };
    } catch (error) {
      await batch.rollback().catch(() => undefined);
      throw error;
    }
  }

  /** A storage fault becomes the coded error callers see, and the queue's current fault. */
  private noteFailure(error: unknown): unknown {
    const fault = error instanceof CommitOutcomeUnknownError ? error : this.engine.asFault(error);
    if (!fault) return error;
    const code = fault instanceof StorageUnavailableError ? fault.engineCode : fault.code;
    this.currentFault = { reason: fault.reason, code, since: this.currentFault?.since ?? new Date().toISOString() };
    return fault;
  }
}

/** What both adapters share: the port's writes through one GroupCommitQueue over their engine. */
export abstract class QueuedStorage implements Storage {
  abstract readonly dialect: Dialect;
  abstract readonly reader: SqlSession;
  private readonly queue: GroupCommitQueue;
  private readonly listeners = new Map<AnnouncedChannel, (() => void)[]>();

  protected constructor(engine: BatchEngine, maxBatch?: number) {
    this.queue = new GroupCommitQueue(engine, maxBatch, (channels) => channels.forEach((channel) => this.announced(channel)));
  }

  abstract leadership(name: LeadershipRole): Leadership;

  onAnnounced(channel: AnnouncedChannel, listener: () => void): void {
    this.listeners.set(channel, [...(this.listeners.get(channel) ?? []), listener]);
  }

  /** Calls this instance's listeners of `channel`: after its own commits, and (PostgreSQL) on another's NOTIFY. */
  protected announced(channel: AnnouncedChannel): void {
    for (const listener of this.listeners.get(channel) ?? []) listener();
  }

  get fault(): StorageFaultState | undefined {
    return this.queue.fault;
  }

  /** Nothing outside the process holds writes up, unless the engine can tell otherwise. */
  async blocker(): Promise<StorageBlocker | undefined> {
    return undefined;
  }

  transact<T>(work: (tx: WriteTransaction) => Promise<T>): Promise<T> {
    return this.queue.transact(work);
  }

  /**
   * Nothing beyond the commit, unless the engine keeps deleted bytes somewhere a copy takes.
   * PostgreSQL's logical dumps hold live rows only; what its files and WAL keep is docs/SECURITY.md's.
   */
  async forgetDeleted(): Promise<boolean> {
    return true;
  }

  observe(observer: WriterObserver): void {
    this.queue.observe(observer);
  }

  /** Waits for the queued writes; adapters then close what they opened. */
  async close(): Promise<void> {
    await this.queue.idle();
  }
}
