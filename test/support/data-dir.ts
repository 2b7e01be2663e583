import Database from 'better-sqlite3';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Every file under `dir` whose bytes contain `needle` (a string as UTF-8), e.g. a plaintext secret value or a wrapped key. */
export function filesContaining(dir: string, needle: string | Buffer): string[] {
  const bytes = typeof needle === 'string' ? Buffer.from(needle, 'utf8') : needle;
  const hits: string[] = [];
  const walk = (path: string) => {
    if (statSync(path).isDirectory()) readdirSync(path).forEach((name) => walk(join(path, name)));
    else if (readFileSync(path).includes(bytes)) hits.push(path);
  };
  walk(dir);
  return hits;
}

/** A second, independent connection to the database file: what an attacker with the file sees. */
export function openDatabase(path: string): Database.Database {
  return new Database(path);
}

export function countRows(path: string, table: string): number {
  const db = openDatabase(path);
  try {
    return (db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
  } finally {
    db.close();
  }
}
