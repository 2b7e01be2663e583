import { Client, Pool, types, type ClientConfig, type CustomTypesConfig } from 'pg';
import { DataSource, MigrationExecutor } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import { POSTGRES_LIMIT_DEFAULTS, type PostgresLimits } from '../../config/configuration';
import { ADVISORY_LOCKS } from './advisory-locks';
import { POSTGRES_MIGRATIONS } from './migrations';

export interface PostgresOptions {
  /** Connections in the pool (pg's default is 10). */
  poolSize?: number;
  /** Shown in pg_stat_activity, to tell instances and tools apart. */
  applicationName?: string;
  /** SPEC §7's limits; the defaults unless given. */
  limits?: PostgresLimits;
}

export interface OpenedPostgres {
  readonly dataSource: DataSource;
  /** The driver's own pool, for the adapter's queries and transactions. */
  readonly pool: Pool;
  close(): Promise<void>;
}

/**
 * BIGINT (and so COUNT(*), and `seq`) as a JS number, as better-sqlite3 returns INTEGER, for this
 * pool only: pg's global parser (`types.setTypeParser`) would change every other pool in the
 * process. A value past 2^53 fails loudly rather than comes back rounded. A connection of its own
 * (for LISTEN, say) passes these too: `new Client({ connectionString, types: POSTGRES_TYPES })`.
 */
export const POSTGRES_TYPES: CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === types.builtins.INT8 && format !== 'binary' ? parseSafeInteger : types.getTypeParser(oid, format)) as CustomTypesConfig['getTypeParser'],
};

function parseSafeInteger(text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new RangeError(`BIGINT ${text} does not fit a JS number`);
  return value;
}

/**
 * What every connection of the service sets up with: the types above, and the limits of SPEC §7
 * as the session's own settings, sent with the startup message (no round trip). The server
 * enforces them and rolls the transaction back itself, so a wait that ends in a 503 can never
 * commit afterwards. Only the connect limit is the driver's: nothing has been sent yet then.
 */
export function postgresClientConfig(limits: PostgresLimits): ClientConfig {
  return {
    types: POSTGRES_TYPES,
    connectionTimeoutMillis: limits.connectTimeoutMs,
    lock_timeout: limits.lockTimeoutMs,
    statement_timeout: limits.statementTimeoutMs,
    idle_in_transaction_session_timeout: limits.idleInTransactionTimeoutMs,
    // A server that vanished without closing the socket is noticed rather than waited on for ever.
    keepAlive: true,
  };
}

/**
 * The pool's connections: pg-pool gives its clients its own options, whose connection timeout
 * is the acquire limit (waiting for a free connection); a new connection keeps the connect limit.
 */
function pooledClient(limits: PostgresLimits): typeof Client {
  return class PooledClient extends Client {
    constructor(config?: ClientConfig) {
      super({ ...config, ...postgresClientConfig(limits) });
    }
  };
}

/**
 * Connects to the database at `url` (a `postgres://` URL, as in DATABASE_URL) and brings its
 * schema up to date. Instances that start together take turns under a session advisory lock,
 * held on the connection the migrations run on: the first migrates, the others then find
 * nothing pending. TypeORM runs them in one transaction, so a failed start leaves no half schema.
 */
export async function openPostgres(url: string, options: PostgresOptions = {}): Promise<OpenedPostgres> {
  const limits = options.limits ?? POSTGRES_LIMIT_DEFAULTS;
  const dataSource = new DataSource({
    type: 'postgres',
    url,
    poolSize: options.poolSize,
    applicationName: options.applicationName ?? 'secrets-ledger',
    migrations: POSTGRES_MIGRATIONS,
    migrationsRun: false,
    migrationsTransactionMode: 'all',
    synchronize: false,
    extra: { types: POSTGRES_TYPES, Client: pooledClient(limits), connectionTimeoutMillis: limits.acquireTimeoutMs },
  });
  await dataSource.initialize();
  try {
    await migrateOnce(dataSource);
  } catch (error) {
    await dataSource.destroy();
    throw error;
  }
  const pool = (dataSource.driver as PostgresDriver).master as Pool;
  return { dataSource, pool, close: () => dataSource.destroy() };
}

async function migrateOnce(dataSource: DataSource): Promise<void> {
  const runner = dataSource.createQueryRunner();
  try {
    // A migration may rebuild an index of a large log, and an instance starting beside one that
    // migrates waits for it: the request limits are not theirs. RESET restores the session's own.
    await runner.query('SET lock_timeout = 0; SET statement_timeout = 0; SET idle_in_transaction_session_timeout = 0');
    await runner.query('SELECT pg_advisory_lock($1)', [ADVISORY_LOCKS.migrations]);
    try {
      await new MigrationExecutor(dataSource, runner).executePendingMigrations();
    } finally {
      await runner.query('SELECT pg_advisory_unlock($1)', [ADVISORY_LOCKS.migrations]);
      await runner.query('RESET lock_timeout; RESET statement_timeout; RESET idle_in_transaction_session_timeout');
    }
  } finally {
    // A session lock lives as long as its connection: releasing a broken one back to the pool
    // is not a risk, since the pool discards connections that errored.
    await runner.release();
  }
}
