import type { SqlSession } from '../storage/sql';

/**
 * The master key ids that wrap at least one stored data key. A scan of `data_keys`, which has
 * no index on `kid` (every value write would pay for one): run at start and once per rotation.
 */
export async function kidsWrappingDataKeys(session: SqlSession): Promise<string[]> {
  return (await session.all<{ kid: string }>('SELECT DISTINCT kid FROM data_keys ORDER BY kid')).map((row) => row.kid);
}
