import Database from 'better-sqlite3';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomically } from '../crypto/atomic-file';

const LOCK_FILE = 'service.lock';
const SERVICE_FILE = 'service.json';

/** What a running `serve` says about itself in its data dir, for the CLI to find it. */
export interface RunningService {
  pid: number;
  url: string;
}

/**
 * Who owns a data dir: `serve` for as long as it runs, or a maintenance command that must not
 * run beside one (an offline master-key rotation). The lock is a kernel file lock, taken through
 * SQLite on a file of its own (an exclusive transaction that is never committed): the kernel
 * drops it when the process ends in any way, SIGKILL included, so it is never stale and needs
 * no pid check.
 */
export class DataDirLock {
  private constructor(
    private readonly dataDir: string,
    private readonly db: Database.Database,
  ) {}

  /** The lock, or undefined when another process holds it. Never waits. */
  static tryAcquire(dataDir: string): DataDirLock | undefined {
    const db = new Database(join(dataDir, LOCK_FILE), { timeout: 0 });
    try {
      db.pragma('journal_mode = MEMORY');
      db.exec('BEGIN EXCLUSIVE');
      // Whoever announced a service here is gone (we hold the lock): its address is stale.
      rmSync(join(dataDir, SERVICE_FILE), { force: true });
      return new DataDirLock(dataDir, db);
    } catch (error) {
      db.close();
      if (String((error as { code?: unknown }).code).startsWith('SQLITE_BUSY')) return undefined;
      throw error;
    }
  }

  /** Tells the CLI where this service answers (written atomically; removed on release). */
  announce(service: RunningService): void {
    writeFileAtomically(join(this.dataDir, SERVICE_FILE), `${JSON.stringify(service)}\n`);
  }

  release(): void {
    rmSync(join(this.dataDir, SERVICE_FILE), { force: true });
    this.db.close();
  }
}

/** The service a data dir's lock holder announced, if it announced one (a `serve`, not a CLI run). */
export function announcedService(dataDir: string): RunningService | undefined {
  const file = join(dataDir, SERVICE_FILE);
  if (!existsSync(file)) return undefined;
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as RunningService;
    return typeof parsed.url === 'string' && typeof parsed.pid === 'number' ? parsed : undefined;
  } catch {
    return undefined;
  }
}
