import type { SqlSession } from '../storage/sql';
import type { Principal, Role } from './principal';

export interface TokenRecord extends Principal {
  createdAt: string;
  revokedAt: string | null;
}

interface TokenRow {
  id: string;
  name: string;
  role: Role;
  plugins: string | null;
  token_hash: string;
  created_at: string;
  revoked_at: string | null;
}

function toRecord(row: TokenRow): TokenRecord {
  return {
    id: row.id,
    name: row.name,
    role: row.role,
    plugins: row.plugins === null ? null : JSON.parse(row.plugins),
    createdAt: row.created_at,
    revokedAt: row.revoked_at,
  };
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

  async findById(s: SqlSession, id: string): Promise<TokenRecord | undefined> {
    const row = await s.get<TokenRow>('SELECT * FROM tokens WHERE id = ?', [id]);
    return row && toRecord(row);
  }

  async insert(s: SqlSession, record: TokenRecord, tokenHash: string): Promise<void> {
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

  async list(s: SqlSession): Promise<TokenRecord[]> {
    return (await s.all<TokenRow>('SELECT * FROM tokens ORDER BY created_at, id')).map(toRecord);
  }

  async activeAdminCount(s: SqlSession): Promise<number> {
    return (await s.get<{ n: number }>("SELECT COUNT(*) AS n FROM tokens WHERE role = 'admin' AND revoked_at IS NULL"))?.n ?? 0;
  }
}
