import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { ConflictError, NotFoundError } from '../common/errors';
import { APP_CONFIG } from '../config/config.module';
import type { AppConfig } from '../config/configuration';
import type { Actor } from '../event-store/event';
import { EventStore } from '../event-store/event-store';
import { StoredEventType } from '../event-store/stored-event-types';
import { SqliteWriter } from '../storage/sqlite-writer';
import { Principal, Role, SYSTEM_ACTOR } from './principal';
import { generateToken, hashToken, hashesEqual } from './token-secret';
import { TokenRecord, TokensRepository } from './tokens-repository';

/** Where the generated first admin token is shown, once. Tests replace it to capture the token. */
export const ANNOUNCE = Symbol('ANNOUNCE');
export type Announce = (message: string) => void;

export interface IssuedToken extends TokenRecord {
  token: string;
}

@Injectable()
export class TokensService implements OnApplicationBootstrap {
  constructor(
    private readonly writer: SqliteWriter,
    private readonly store: EventStore,
    private readonly tokens: TokensRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(ANNOUNCE) private readonly announce: Announce,
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
    if (configured !== undefined) {
      if (!this.tokens.findByHash(hashToken(configured))) {
        await this.issue({ name: 'bootstrap-admin', role: 'admin', plugins: null }, SYSTEM_ACTOR, configured);
      }
      return;
    }
    if (this.tokens.list().length > 0) return;
    const issued = await this.issue({ name: 'bootstrap-admin', role: 'admin', plugins: null }, SYSTEM_ACTOR);
    this.announce(
      [
        '',
        '================================================================',
        ' First start: an admin token was generated. It is shown only now',
        ' and stored only as a hash. Keep it somewhere safe:',
        '',
        `   ${issued.token}`,
        '',
        ' (Set SECRETS_ADMIN_TOKEN to choose it yourself.)',
        '================================================================',
        '',
      ].join('\n'),
    );
  }

  async issue(spec: { name: string; role: Role; plugins: string[] | null }, actor: Actor, token = generateToken()): Promise<IssuedToken> {
    const tokenHash = hashToken(token);
    const record = await this.writer.write(() => {
      const id = `tok_${randomUUID()}`;
      const [event] = this.store.appendToStream(
        `token-${id}`,
        0,
        [{ type: StoredEventType.TokenIssued, data: { id, name: spec.name, role: spec.role, plugins: spec.plugins } }],
        actor,
      );
      const created: TokenRecord = { id, ...spec, createdAt: event.at, revokedAt: null };
      this.tokens.insert(created, tokenHash);
      return created;
    });
    return { ...record, token };
  }

  async revoke(id: string, actor: Actor): Promise<void> {
    await this.writer.write(() => {
      const record = this.tokens.findById(id);
      // The id came from the path: it is not repeated back (it may be anything a client typed).
      if (!record || record.revokedAt !== null) throw new NotFoundError('No active token has this id (it never existed, or it is already revoked).');
      // Revoking the last admin token would lock every admin out for good: the bootstrap token
      // is only issued once, and a revoked one stays revoked.
      if (record.role === 'admin' && this.tokens.activeAdminCount() === 1) {
        throw new ConflictError('This is the last active admin token: issue another admin token before revoking it.');
      }
      const [event] = this.store.appendToStream(`token-${id}`, 1, [{ type: StoredEventType.TokenRevoked, data: { id } }], actor);
      this.tokens.revoke(id, event.at);
    });
  }

  list(): TokenRecord[] {
    return this.tokens.list();
  }

  /** The principal behind a bearer token, or undefined for an unknown or revoked token. */
  authenticate(token: string): Principal | undefined {
    const tokenHash = hashToken(token);
    const record = this.tokens.findByHash(tokenHash);
    if (!record || record.revokedAt !== null || !hashesEqual(record.tokenHash, tokenHash)) return undefined;
    return { id: record.id, name: record.name, role: record.role, plugins: record.plugins };
  }
}
