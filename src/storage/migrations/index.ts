import { InitialSchema1764201600000 } from './1764201600000-initial-schema';
import { AuditIndexes1764201700000 } from './1764201700000-audit-indexes';
import { RelayCheckpoint1764201800000 } from './1764201800000-relay-checkpoint';
import { EventKeys1764201900000 } from './1764201900000-event-keys';
import { StorageProbe1764202050000 } from './1764202050000-storage-probe';
import { MasterKeyHolders1764202100000 } from './1764202100000-master-key-holders';
import { TokenLastUsed1764202200000 } from './1764202200000-token-last-used';
import { SecretConsumers1764202400000 } from './1764202400000-secret-consumers';
import { SecretExpiry1764202410000 } from './1764202410000-secret-expiry';

/** Every migration, oldest first. TypeORM runs the pending ones at start. */
export const MIGRATIONS = [
  InitialSchema1764201600000,
  AuditIndexes1764201700000,
  RelayCheckpoint1764201800000,
  EventKeys1764201900000,
  StorageProbe1764202050000,
  MasterKeyHolders1764202100000,
  TokenLastUsed1764202200000,
  SecretConsumers1764202400000,
  SecretExpiry1764202410000,
];
