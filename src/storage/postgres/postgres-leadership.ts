import { Client, type ClientConfig } from 'pg';
import type { Leadership } from '../sql';

/**
 * A role one instance holds at a time: a session advisory lock on a connection of its own,
 * outside the pool. Whoever holds the lock holds the role; when its process dies its
 * connection closes and PostgreSQL releases the lock at once, so the next instance to ask
 * (`holds()` is asked at least once a second by the relay) takes the role over.
 */
export class PostgresLeadership implements Leadership {
  private client: Client | undefined;
  private holding = false;
  private pending: Promise<boolean> | undefined;

  constructor(
    /** The database and the session's settings (postgresClientConfig), on a connection of its own. */
    private readonly connection: ClientConfig,
    private readonly lockKey: number,
  ) {}

  get held(): boolean {
    return this.holding;
  }

  holds(): Promise<boolean> {
    if (this.holding) return Promise.resolve(true);
    // One attempt at a time: a second caller waits for the first's answer.
    this.pending ??= this.tryTake().finally(() => (this.pending = undefined));
    return this.pending;
  }

  async release(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.holding = false;
    await client?.end().catch(() => undefined);
  }

  private async tryTake(): Promise<boolean> {
    try {
      const client = this.client ?? (await this.connect());
      const { rows } = await client.query<{ taken: boolean }>('SELECT pg_try_advisory_lock($1) AS taken', [this.lockKey]);
      this.holding = rows[0]?.taken === true;
      return this.holding;
    } catch {
      // No connection, no role: another instance (or this one, later) takes it.
      await this.release();
      return false;
    }
  }

  private async connect(): Promise<Client> {
    const client = new Client(this.connection);
    // The lock went with the connection: the role is no longer ours.
    const lost = () => {
      if (this.client === client) {
        this.client = undefined;
        this.holding = false;
      }
    };
    client.on('error', lost);
    client.on('end', lost);
    await client.connect();
    this.client = client;
    return client;
  }
}
