import { StoredEventType } from '../event-store/stored-event-types';
import type { SqlSession } from '../storage/sql';
import type { Principal, Role } from './principal';
import type { StoredTokenRow, TokenInLog, TokenIssuedData } from './token-log-check';

export interface TokenRecord extends Principal {
  createdAt: string;
  revokedAt: string | null;
  /** When it last authenticated, to the minute (src/auth/token-last-use.ts); null: never. */
  lastUsedAt: string | null;
}

interface TokenRow {
  id: string;
  name: string;
  role: Role;
  plugins: string | null;
  token_hash: string;
  created_at: string;
  revoked_at: string | null;
  last_used_at: string | null;
}

/** A token row and, from the log, its first two events (the stream's `TokenIssued` and `TokenRevoked`). */
interface TokenRowWithLog extends TokenRow {
  issued_type: string | null;
  issued_data: string | null;
  issued_at: string | null;
  revoked_type: string | null;
  revoked_at_in_log: string | null;
}

/** The stream a token's events are appended to. */
export function tokenStream(id: string): string {
  return `token-${id}`;
}

function toRecord(row: TokenRow): TokenRecord {
  return {
    id: row.id,
    name: row.name,
    role: row.role,
    plugins: row.plugins === null ? null : JSON.parse(row.plugins),
    createdAt: row.created_at,
    revokedAt: row.revoked_at,
    lastUsedAt: row.last_used_at,
  };
}

function storedRow(row: TokenRow): StoredTokenRow {
  return { ...toRecord(row), tokenHash: row.token_hash };
}

/**
 * The tokens table: identities and hashes. Every method takes the session it runs in: writes
 * go inside the transaction that appends their events; reads of the storage's reader see what
 * any instance has committed, so a token revoked through one instance is refused by all.
 */
export class TokensRepository {
  async findByHash(s: SqlSession, tokenHash: string): Promise<(TokenRecord & { tokenHash: string }) | undefined> {
    const row = await s.get<TokenRow>('SELECT * FROM tokens WHERE token_hash = ?', [tokenHash]);
    return row && { ...toRecord(row), tokenHash: row.token_hash };
  }

  /**
   * The token with this hash, and what the log says of it, in one statement: authentication runs
   * on every request, on any instance, so it reads the shared log rather than a copy one process
   * holds, and pays two index lookups of `UNIQUE(stream, version)`, not a round trip more.
   */
  async findByHashWithLog(s: SqlSession, tokenHash: string): Promise<{ row: StoredTokenRow; lastUsedAt: string | null; log: TokenInLog } | undefined> {
    const row = await s.get<TokenRowWithLog>(
      `SELECT t.*, i.type AS issued_type, i.data AS issued_data, i.at AS issued_at, r.type AS revoked_type, r.at AS revoked_at_in_log
         FROM tokens t
         LEFT JOIN events i ON i.stream = 'token-' || t.id AND i.version = 1
         LEFT JOIN events r ON r.stream = 'token-' || t.id AND r.version = 2
        WHERE t.token_hash = ?`,
      [tokenHash],
    );
    if (!row) return undefined;
    const issued =
      row.issued_type === StoredEventType.TokenIssued && row.issued_data !== null && row.issued_at !== null
        ? { data: JSON.parse(row.issued_data) as TokenIssuedData, at: row.issued_at }
        : undefined;
    const revokedAt = row.revoked_type === StoredEventType.TokenRevoked ? row.revoked_at_in_log : null;
    return { row: storedRow(row), lastUsedAt: row.last_used_at, log: { issued, revokedAt } };
  }

  /** Every row as stored, hashes included: what `audit verify` holds against the log. */
  async storedRows(s: SqlSession): Promise<StoredTokenRow[]> {
    return (await s.all<TokenRow>('SELECT * FROM tokens ORDER BY id')).map(storedRow);
  }

  async findById(s: SqlSession, id: string): Promise<TokenRecord | undefined> {
    const row = await s.get<TokenRow>('SELECT * FROM tokens WHERE id = ?', [id]);
    return row && toRecord(row);
  }

  async insert(s: SqlSession, record: Omit<TokenRecord, 'lastUsedAt'>, tokenHash: string): Promise<void> {
    await s.run('INSERT INTO tokens (id, name, role, plugins, token_hash, created_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?)', [
      record.id,
      record.name,
      record.role,
      record.plugins === null ? null : JSON.stringify(record.plugins),
      tokenHash,
      record.createdAt,
      record.revokedAt,
    ]);
  }

  async revoke(s: SqlSession, id: string, at: string): Promise<boolean> {
    return (await s.run('UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL', [at, id])) === 1;
  }

  /**
   * Records a use at `at` unless one at or after `unlessSince` is recorded already (by this
   * instance or another on the database): the check and the write are one statement, and the
   * time only moves forward. Resolves with whether it wrote.
   */
  async recordUse(s: SqlSession, id: string, at: string, unlessSince: string): Promise<boolean> {
    return (await s.run('UPDATE tokens SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)', [at, id, unlessSince])) === 1;
  }

  async list(s: SqlSession): Promise<TokenRecord[]> {
    return (await s.all<TokenRow>('SELECT * FROM tokens ORDER BY created_at, id')).map(toRecord);
  }

  async activeAdminCount(s: SqlSession): Promise<number> {
    return (await s.get<{ n: number }>("SELECT COUNT(*) AS n FROM tokens WHERE role = 'admin' AND revoked_at IS NULL"))?.n ?? 0;
  }
}
