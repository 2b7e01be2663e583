import { Pool, types, type CustomTypesConfig } from 'pg';
import { DataSource, MigrationExecutor } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import { ADVISORY_LOCKS } from './advisory-locks';
import { POSTGRES_MIGRATIONS } from './migrations';

export interface PostgresOptions {
  /** Connections in the pool (pg's default is 10). */
  poolSize?: number;
  /** Shown in pg_stat_activity, to tell instances and tools apart. */
  applicationName?: string;
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
 * Connects to the database at `url` (a `postgres://` URL, as in DATABASE_URL) and brings its
 * schema up to date. Instances that start together take turns under a session advisory lock,
 * held on the connection the migrations run on: the first migrates, the others then find
 * nothing pending. TypeORM runs them in one transaction, so a failed start leaves no half schema.
 */
export async function openPostgres(url: string, options: PostgresOptions = {}): Promise<OpenedPostgres> {
  const dataSource = new DataSource({
    type: 'postgres',
    url,
    poolSize: options.poolSize,
    applicationName: options.applicationName ?? 'secrets-ledger',
    migrations: POSTGRES_MIGRATIONS,
    migrationsRun: false,
    migrationsTransactionMode: 'all',
    synchronize: false,
    extra: { types: POSTGRES_TYPES },
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
    await runner.query('SELECT pg_advisory_lock($1)', [ADVISORY_LOCKS.migrations]);
    try {
      await new MigrationExecutor(dataSource, runner).executePendingMigrations();
    } finally {
      await runner.query('SELECT pg_advisory_unlock($1)', [ADVISORY_LOCKS.migrations]);
    }
  } finally {
    // A session lock lives as long as its connection: releasing a broken one back to the pool
    // is not a risk, since the pool discards connections that errored.
    await runner.release();
  }
}
