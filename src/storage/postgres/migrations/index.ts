import { PgInitialSchema1764201600000 } from './1764201600000-initial-schema';
import { PgAuditIndexes1764201700000 } from './1764201700000-audit-indexes';
import { PgRelayCheckpoint1764201800000 } from './1764201800000-relay-checkpoint';
import { PgEventKeys1764201900000 } from './1764201900000-event-keys';
import { PgStorageProbe1764202050000 } from './1764202050000-storage-probe';
import { PgMasterKeyHolders1764202100000 } from './1764202100000-master-key-holders';
import { PgTokenLastUsed1764202200000 } from './1764202200000-token-last-used';
import { PgSecretConsumers1764202400000 } from './1764202400000-secret-consumers';
import { PgSecretExpiry1764202410000 } from './1764202410000-secret-expiry';

/**
 * Every PostgreSQL migration, oldest first: one per SQLite migration in `../../migrations/`,
 * with the same date, so that a change to the schema is made once per engine, side by side.
 */
export const POSTGRES_MIGRATIONS = [
  PgInitialSchema1764201600000,
  PgAuditIndexes1764201700000,
  PgRelayCheckpoint1764201800000,
  PgEventKeys1764201900000,
  PgStorageProbe1764202050000,
  PgMasterKeyHolders1764202100000,
  PgTokenLastUsed1764202200000,
  PgSecretConsumers1764202400000,
  PgSecretExpiry1764202410000,
];
