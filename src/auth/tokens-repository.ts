import type { Database, Statement } from 'better-sqlite3';
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

/** The tokens table: identities and hashes. Writes happen inside the writer, beside their events. */
export class TokensRepository {
  private readonly stmt: {
    byHash: Statement<[string], TokenRow>;
    byId: Statement<[string], TokenRow>;
    insert: Statement<TokenRow>;
    revoke: Statement<[string, string]>;
    list: Statement<[], TokenRow>;
    activeAdmins: Statement<[], { n: number }>;
  };

  constructor(db: Database) {
    this.stmt = {
      byHash: db.prepare('SELECT * FROM tokens WHERE token_hash = ?'),
      byId: db.prepare('SELECT * FROM tokens WHERE id = ?'),
      insert: db.prepare(
        'INSERT INTO tokens (id, name, role, plugins, token_hash, created_at, revoked_at) VALUES (@id, @name, @role, @plugins, @token_hash, @created_at, @revoked_at)',
      ),
      revoke: db.prepare('UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL'),
      list: db.prepare('SELECT * FROM tokens ORDER BY created_at, id'),
      activeAdmins: db.prepare("SELECT COUNT(*) AS n FROM tokens WHERE role = 'admin' AND revoked_at IS NULL"),
    };
  }

  findByHash(tokenHash: string): (TokenRecord & { tokenHash: string }) | undefined {
    const row = this.stmt.byHash.get(tokenHash);
    return row && { ...toRecord(row), tokenHash: row.token_hash };
  }

  findById(id: string): TokenRecord | undefined {
    const row = this.stmt.byId.get(id);
    return row && toRecord(row);
  }

  insert(record: TokenRecord, tokenHash: string): void {
    this.stmt.insert.run({
      id: record.id,
      name: record.name,
      role: record.role,
      plugins: record.plugins === null ? null : JSON.stringify(record.plugins),
      token_hash: tokenHash,
      created_at: record.createdAt,
      revoked_at: record.revokedAt,
    });
  }

  revoke(id: string, at: string): boolean {
    return this.stmt.revoke.run(at, id).changes === 1;
  }

  list(): TokenRecord[] {
    return this.stmt.list.all().map(toRecord);
  }

  activeAdminCount(): number {
    return this.stmt.activeAdmins.get()?.n ?? 0;
  }
}
