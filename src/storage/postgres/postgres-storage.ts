import { Client, Pool, PoolClient } from 'pg';
import { BatchEngine, BatchTransaction, QueuedStorage } from '../group-commit';
import type { AnnouncedChannel, Leadership, LeadershipRole, SqlSession } from '../sql';
import { StorageUnavailableError } from '../storage-fault';
import { ADVISORY_LOCKS } from './advisory-locks';
import { postgresFault } from './postgres-faults';
import { PostgresLeadership } from './postgres-leadership';
import { POSTGRES_TYPES } from './open-postgres';
import { POSTGRES_DIALECT, PostgresSession } from './postgres-session';

/** Batches on a pooled connection, each one transaction that first takes the log's append lock. */
class PostgresBatchEngine implements BatchEngine {
  constructor(private readonly pool: Pool) {}

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
        await client.query(text);
      } catch (error) {
        if (postgresFault(error)) lost = true;
        throw error;
      }
    };
    try {
      // One round trip: statements without parameters may share a simple query. The lock key is
      // our constant, never input.
      await q(`BEGIN; SELECT pg_advisory_xact_lock(${Number(ADVISORY_LOCKS.logAppend)})`);
    } catch (error) {
      release(error instanceof Error ? error : new Error(String(error)));
      throw error;
    }
    return batchOn(client, q, release, () => !lost);
  }

  asFault(error: unknown): StorageUnavailableError | undefined {
    if (error instanceof StorageUnavailableError) return error;
    const fault = postgresFault(error);
    return fault && new StorageUnavailableError(fault.reason, fault.code);
  }
}

/**
 * Every statement here is a round trip, and a batch runs its jobs one after another on one
 * connection, so the savepoints are folded into as few as can be: a job's RELEASE travels with
 * the next job's SAVEPOINT, and COMMIT releases the last one itself.
 */
function batchOn(client: PoolClient, q: (text: string) => Promise<void>, release: (error?: Error) => void, open: () => boolean): BatchTransaction {
  let releaseDue = false;
  return {
    session: new PostgresSession(client),
    savepoint: () => {
      const text = releaseDue ? 'RELEASE SAVEPOINT job; SAVEPOINT job' : 'SAVEPOINT job';
      releaseDue = false;
      return q(text);
    },
    release: async () => {
      releaseDue = true;
    },
    rollbackToSavepoint: () => {
      releaseDue = false;
      return q('ROLLBACK TO SAVEPOINT job; RELEASE SAVEPOINT job');
    },
    commit: async () => {
      await q('COMMIT');
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
  private readonly channels = new Set<AnnouncedChannel>();
  private readonly roles: PostgresLeadership[] = [];
  private closed = false;

  constructor(
    readonly pool: Pool,
    /** The database's URL, for the connections that live outside the pool (LISTEN, leadership). */
    private readonly url: string,
    maxBatch?: number,
  ) {
    super(new PostgresBatchEngine(pool), maxBatch);
    this.reader = new PostgresSession(pool);
  }

  override onAnnounced(channel: AnnouncedChannel, listener: () => void): void {
    super.onAnnounced(channel, listener);
    this.channels.add(channel);
    void this.listen();
  }

  leadership(name: LeadershipRole): Leadership {
    const role = new PostgresLeadership(this.url, ADVISORY_LOCKS[name]);
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
   * instance's commit (this one's too) calls them. Lost, it reconnects a second later; the relay's
   * own timers cover what was announced meanwhile.
   */
  private async listen(): Promise<void> {
    if (this.closed) return;
    if (!this.listener) {
      const client = new Client({ connectionString: this.url, types: POSTGRES_TYPES, application_name: 'secrets-ledger listener' });
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
  }
}
