import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { ConflictError, NotFoundError } from '../common/errors';
import { APP_CONFIG } from '../config/config.module';
import type { AppConfig } from '../config/configuration';
import type { Actor } from '../event-store/event';
import { EventStore } from '../event-store/event-store';
import { StoredEventType } from '../event-store/stored-event-types';
import { STORAGE, SqlSession, Storage, WriteTransaction } from '../storage/sql';
import { Principal, Role, SYSTEM_ACTOR } from './principal';
import { TokenIntegrity } from './token-integrity';
import { tokenDisagreements } from './token-log-check';
import { generateToken, hashDigest, hashToken, hashesEqual } from './token-secret';
import { TokenRecord, TokensRepository, tokenStream } from './tokens-repository';

/** Where the generated first admin token is shown, once. Tests replace it to capture the token. */
export const ANNOUNCE = Symbol('ANNOUNCE');
export type Announce = (message: string) => void;

export interface IssuedToken extends TokenRecord {
  token: string;
}

@Injectable()
export class TokensService implements OnApplicationBootstrap {
  constructor(
    @Inject(STORAGE) private readonly storage: Storage,
    private readonly store: EventStore,
    private readonly tokens: TokensRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(ANNOUNCE) private readonly announce: Announce,
    private readonly integrity: TokenIntegrity,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.bootstrapAdmin();
  }

  /**
   * SPEC §2: the first admin token is SECRETS_ADMIN_TOKEN, or, on a first start without it, a
   * generated one shown exactly once. Either way only its hash is stored.
   */
  async bootstrapAdmin(): Promise<void> {
    const configured = this.config.adminToken;
    const token = configured ?? generateToken();
    const needed = async (session: SqlSession) =>
      configured !== undefined ? !(await this.tokens.findByHash(session, hashToken(configured))) : (await this.tokens.list(session)).length === 0;
    // Every start but the first finds the token on a read, with no write transaction to commit.
    if (!(await needed(this.storage.reader))) return;
    // Checked again and issued in one write transaction, under the writer's lock: instances that
    // start together on one database issue it once.
    const issued = await this.storage.transact(async (tx) =>
      (await needed(tx)) ? this.issueIn(tx, { name: 'bootstrap-admin', role: 'admin', plugins: null }, SYSTEM_ACTOR, hashToken(token)) : undefined,
    );
    if (!issued || configured !== undefined) return;
    this.announce(
      [
        '',
        '================================================================',
        ' First start: an admin token was generated. It is shown only now',
        ' and stored only as a hash. Keep it somewhere safe:',
        '',
        `   ${token}`,
        '',
        ' (Set SECRETS_ADMIN_TOKEN to choose it yourself.)',
        '================================================================',
        '',
      ].join('\n'),
    );
  }

  async issue(spec: { name: string; role: Role; plugins: string[] | null }, actor: Actor, token = generateToken()): Promise<IssuedToken> {
    const tokenHash = hashToken(token);
    const record = await this.storage.transact((tx) => this.issueIn(tx, spec, actor, tokenHash));
    return { ...record, token };
  }

  private async issueIn(tx: WriteTransaction, spec: { name: string; role: Role; plugins: string[] | null }, actor: Actor, tokenHash: string): Promise<TokenRecord> {
    const id = `tok_${randomUUID()}`;
    const [event] = await this.store.appendToStream(
      tx,
      tokenStream(id),
      0,
      // The digest binds the row's hash to this event: a row given another token's hash is refused.
      [{ type: StoredEventType.TokenIssued, data: { id, name: spec.name, role: spec.role, plugins: spec.plugins, hashDigest: hashDigest(tokenHash) } }],
      actor,
    );
    const created: TokenRecord = { id, ...spec, createdAt: event.at, revokedAt: null };
    await this.tokens.insert(tx, created, tokenHash);
    return created;
  }

  async revoke(id: string, actor: Actor): Promise<void> {
    await this.storage.transact(async (tx) => {
      const record = await this.tokens.findById(tx, id);
      // The id came from the path: it is not repeated back (it may be anything a client typed).
      if (!record || record.revokedAt !== null) throw new NotFoundError('No active token has this id (it never existed, or it is already revoked).');
      // Revoking the last admin token would lock every admin out for good: the bootstrap token
      // is only issued once, and a revoked one stays revoked.
      if (record.role === 'admin' && (await this.tokens.activeAdminCount(tx)) === 1) {
        throw new ConflictError('This is the last active admin token: issue another admin token before revoking it.');
      }
      const [event] = await this.store.appendToStream(tx, tokenStream(id), 1, [{ type: StoredEventType.TokenRevoked, data: { id } }], actor);
      await this.tokens.revoke(tx, id, event.at);
      // Open change streams of this token, on every instance, end at once (SPEC §3).
      tx.announce('token_revocations');
    });
  }

  /** Whether the token with this id may still be used (it exists and is not revoked). */
  async isActive(id: string): Promise<boolean> {
    const record = await this.tokens.findById(this.storage.reader, id);
    return record !== undefined && record.revokedAt === null;
  }

  list(): Promise<TokenRecord[]> {
    return this.tokens.list(this.storage.reader);
  }

  /**
   * The principal behind a bearer token, or undefined for an unknown or revoked token, or one
   * whose row disagrees with the log's `TokenIssued`/`TokenRevoked` (role, plugins, name, hash,
   * revocation edited in the table): such a token is refused and reported, never trusted.
   * The row has just been found to match the log, so its fields are the log's.
   */
  async authenticate(token: string): Promise<Principal | undefined> {
    const tokenHash = hashToken(token);
    const found = await this.tokens.findByHashWithLog(this.storage.reader, tokenHash);
    if (!found || !hashesEqual(found.row.tokenHash, tokenHash)) return undefined;
    const disagreements = tokenDisagreements(found.row, found.log);
    if (disagreements.length > 0) {
      await this.integrity.rejectedRow(found.row.id, disagreements);
      return undefined;
    }
    const { row } = found;
    if (row.revokedAt !== null) return undefined;
    return { id: row.id, name: row.name, role: row.role, plugins: row.plugins };
  }
}
