import { InitialSchema1764201600000 } from './1764201600000-initial-schema';
import { RelayCheckpoint1764201800000 } from './1764201800000-relay-checkpoint';

/** Every migration, oldest first. TypeORM runs the pending ones at start. */
export const MIGRATIONS = [InitialSchema1764201600000, RelayCheckpoint1764201800000];
