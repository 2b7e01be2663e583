/** Injection token of the raw better-sqlite3 handle behind TypeORM's connection. */
export const SQLITE = Symbol('SQLITE');
