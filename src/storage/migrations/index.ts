import { InitialSchema1764201600000 } from './1764201600000-initial-schema';

/** Every migration, oldest first. TypeORM runs the pending ones at start. */
export const MIGRATIONS = [InitialSchema1764201600000];
