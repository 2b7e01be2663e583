import { Client, Pool, PoolClient, QueryResult } from 'pg';
import { POSTGRES_LIMIT_DEFAULTS, type PostgresLimits } from '../../config/configuration';
import { BatchEngine, BatchTransaction, QueuedStorage } from '../group-commit';
import type { AnnouncedChannel, Leadership, LeadershipRole, SqlSession, StorageBlocker } from '../sql';
import { StorageUnavailableError, asStorageUnavailable } from '../storage-fault';
import { ADVISORY_LOCKS } from './advisory-locks';
import { appendLockHeldPast } from './append-lock';
import { settleFailedCommit } from './commit-outcome';
import { PostgresLeadership } from './postgres-leadership';
import { postgresClientConfig } from './open-postgres';
import { POSTGRES_DIALECT, PostgresSession } from './postgres-session';

/**
 * Batches on a pooled connection, each one transaction that first takes the log's append lock.
 * Every wait is bounded by the server (the session's lock_timeout, statement_timeout and
 * idle_in_transaction_session_timeout), which then rolls the transaction back: a batch that
 * fails before COMMIT left nothing behind. A COMMIT whose answer was lost is settled by asking
 * the database what became of the transaction (./commit-outcome.ts).
 */
class PostgresBatchEngine implements BatchEngine {
  constructor(
    private readonly pool: Pool,
    private readonly limits: PostgresLimits,
  ) {}

  async begin(): Promise<BatchTransaction> {
    const client = await this.pool.connect();
    let lost = false;
    let released = false;
    const onError = () => (lost = true);
    client.on('error', onError);
    const release = (error?: Error) => {
      if (released) return;
      released = true;
      client.off('error', onError);
      // A connection whose state is in doubt is destroyed rather than handed to the next batch.
      client.release(error ?? (lost ? new Error('connection lost') : undefined));
    };
    const q = async (text: string) => {
      try {
        return await client.query(text);
      } catch (error) {
        if (asStorageUnavailable(error)) lost = true;
        throw error;
      }
    };
    let session: { xid: number; pid: number };
    try {
      // One round trip: statements without parameters may share a simple query. The lock key is
      // our constant, never input. The transaction and its session are what a lost COMMIT is settled by.
      const results = (await q(`BEGIN; SELECT pg_advisory_xact_lock(${Number(ADVISORY_LOCKS.logAppend)}); SELECT txid_current() AS xid, pg_backend_pid() AS pid`)) as unknown as QueryResult<{ xid: number; pid: number }>[];
      session = results[2].rows[0];
    } catch (error) {
      release(error instanceof Error ? error : new Error(String(error)));
      throw error;
    }
    const settle = (failure: unknown) => settleFailedCommit(this.pool, failure, session.xid, session.pid, this.limits.statementTimeoutMs);
    return batchOn(client, q, release, () => !lost && !released, settle);
  }

  asFault(error: unknown): StorageUnavailableError | undefined {
    return asStorageUnavailable(error);
  }
}

/**
 * Every statement here is a round trip, and a batch runs its jobs one after another on one
 * connection, so the savepoints are folded into as few as can be: a job's RELEASE travels with
 * the next job's SAVEPOINT, and COMMIT releases the last one itself.
 */
function batchOn(
  client: PoolClient,
  q: (text: string) => Promise<unknown>,
  release: (error?: Error) => void,
  open: () => boolean,
  settleFailedCommit: (failure: unknown) => Promise<void>,
): BatchTransaction {
  let releaseDue = false;
  return {
    session: new PostgresSession(client),
    savepoint: async () => {
      const text = releaseDue ? 'RELEASE SAVEPOINT job; SAVEPOINT job' : 'SAVEPOINT job';
      releaseDue = false;
      await q(text);
    },
    release: async () => {
      releaseDue = true;
    },
    rollbackToSavepoint: async () => {
      releaseDue = false;
      await q('ROLLBACK TO SAVEPOINT job; RELEASE SAVEPOINT job');
    },
    commit: async () => {
      try {
        await q('COMMIT');
      } catch (failure) {
        release(failure instanceof Error ? failure : new Error(String(failure)));
        return settleFailedCommit(failure);
      }
      release();
    },
    rollback: async () => {
      try {
        if (open()) await q('ROLLBACK');
      } finally {
        release();
      }
    },
    stillOpen: open,
    announce: async (channels) => {
      // Delivered to every LISTENing instance when, and only if, this transaction commits.
      for (const channel of channels) await client.query('SELECT pg_notify($1, $2)', [channel, '']);
    },
  };
}

/**
 * PostgreSQL: any number of service processes on one database. Writes go through the same
 * group-commit queue as SQLite's, on a pooled connection per batch; reads go through the pool,
 * each statement on its own (READ COMMITTED: committed state only).
 */
export class PostgresStorage extends QueuedStorage {
  readonly dialect = POSTGRES_DIALECT;
  readonly reader: SqlSession;
  private listener: Client | undefined;
  /** Whether a LISTEN connection has been up before: a new one after it is a reconnect. */
  private heard = false;
  private readonly channels = new Set<AnnouncedChannel>();
  private readonly roles: PostgresLeadership[] = [];
  private closed = false;

  constructor(
    readonly pool: Pool,
    /** The database's URL, for the connections that live outside the pool (LISTEN, leadership). */
    private readonly url: string,
    private readonly limits: PostgresLimits = POSTGRES_LIMIT_DEFAULTS,
    maxBatch?: number,
  ) {
    super(new PostgresBatchEngine(pool, limits), maxBatch);
    this.reader = new PostgresSession(pool);
  }

  /** A session that has held the log's append lock past the lock-wait limit holds up every write. */
  override async blocker(): Promise<StorageBlocker | undefined> {
    const holder = await appendLockHeldPast(this.reader, this.limits.lockTimeoutMs);
    if (!holder) return undefined;
    const who = `pid ${holder.pid}${holder.application ? `, ${holder.application}` : ''}, ${holder.state}`;
    return {
      reason: `the log's append lock has been held for ${Math.round(holder.heldMs / 1000)} s by another session (${who}), past the lock-wait limit of ${this.limits.lockTimeoutMs} ms: writes are refused until it is released`,
      ...holder,
    };
  }

  /** What a connection of its own (LISTEN, leadership) connects with. */
  private connection(applicationName: string) {
    return { ...postgresClientConfig(this.limits), connectionString: this.url, application_name: applicationName };
  }

  override onAnnounced(channel: AnnouncedChannel, listener: () => void): void {
    super.onAnnounced(channel, listener);
    this.channels.add(channel);
    void this.listen();
  }

  leadership(name: LeadershipRole): Leadership {
    const role = new PostgresLeadership(this.connection('secrets-ledger leadership'), ADVISORY_LOCKS[name]);
    this.roles.push(role);
    return role;
  }

  override async close(): Promise<void> {
    this.closed = true;
    await super.close();
    await Promise.all(this.roles.map((role) => role.release()));
    await this.listener?.end().catch(() => undefined);
    this.listener = undefined;
  }

  /**
   * One connection outside the pool LISTENs on every channel a listener wants; NOTIFY from any
   * instance's commit (this one's too) calls them. Lost, it reconnects a second later, and then
   * calls every listener once: whatever was announced meanwhile was not heard, and a listener
   * woken for nothing only looks and finds nothing new.
   */
  private async listen(): Promise<void> {
    if (this.closed) return;
    const reconnected = !this.listener && this.heard;
    if (!this.listener) {
      const client = new Client(this.connection('secrets-ledger listener'));
      this.listener = client;
      const reconnect = () => {
        if (this.listener !== client) return;
        this.listener = undefined;
        setTimeout(() => void this.listen(), 1_000).unref();
      };
      client.on('error', reconnect);
      client.on('end', reconnect);
      client.on('notification', (message) => this.announced(message.channel as AnnouncedChannel));
      try {
        await client.connect();
      } catch {
        reconnect();
        return;
      }
    }
    for (const channel of this.channels) await this.listener?.query(`LISTEN ${channel}`).catch(() => undefined);
    this.heard = true;
    if (reconnected) this.channels.forEach((channel) => this.announced(channel));
  }
}
