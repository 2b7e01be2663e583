import { Inject, Injectable } from '@nestjs/common';
import { MAX_KEYS_PER_RESOLVE, type ResolveReply } from '../contract/api-types';
import { FieldError, ForbiddenError, ValidationError, fieldNameFromRequest } from '../common/errors';
import { AccessDeniedRecorder } from '../auth/access-denied.recorder';
import { APP_CONFIG } from '../config/config.module';
import type { AppConfig } from '../config/configuration';
import { PLUGIN_NAME_PATTERN, PLUGIN_NAME_RULE } from '../auth/plugin-name';
import { Principal, actorOf } from '../auth/principal';
import { EventStore } from '../event-store/event-store';
import { secretStream } from '../secrets/domain/events';
import { hasExpired } from '../secrets/domain/expiry';
import { SECRET_KEY_RULE, isValidSecretKey } from '../secrets/domain/secret-key';
import { ResolvableValue, SecretsReadModel } from '../secrets/secrets-read-model';
import type { SecretValue } from '../crypto/secret-value';
import { STORAGE, Storage } from '../storage/sql';
import { DeliveryRecords } from './delivery-records';
import type { UnreadableSighting } from './unreadable-values';

const RESOLVE_FIELDS = ['plugin', 'keys'];

export interface ResolveRequest {
  plugin: unknown;
  keys: unknown;
}

/**
 * Resolves values for an executor, over HTTP and NATS alike. Every answer is recorded in a
 * `SecretsResolved` entry (principal, plugin, keys and versions read — never values), and is
 * given only once that record is durable. Concurrent resolves share a write (DeliveryRecords).
 */
@Injectable()
export class ResolveService {
  constructor(
    @Inject(STORAGE) private readonly storage: Storage,
    private readonly store: EventStore,
    private readonly readModel: SecretsReadModel,
    private readonly denied: AccessDeniedRecorder,
    private readonly deliveries: DeliveryRecords,
    @Inject(APP_CONFIG) private readonly config: Pick<AppConfig, 'expiry'>,
  ) {}

  async resolve(principal: Principal, request: ResolveRequest): Promise<ResolveReply> {
    const { plugin, keys } = validate(request);
    await this.authorize(principal, plugin, keys, `resolve ${plugin}`);
    const found = await this.read(keys);
    const { revision, missing, expired, unreadable } = found;
    const secrets: Record<string, string> = {};
    for (const [key, { value }] of found.values) secrets[key] = value.reveal();
    await this.deliveries.record({ actor: actorOf(principal), plugin, read: versionsRead(found), missing, expired, unreadable, revision, asked: keys });
    return { secrets, missing, unreadable: unreadable.map((sighting) => sighting.key), ...(expired.length > 0 ? { expired } : {}), revision };
  }

  /**
   * Who may read these keys' values for `plugin` (resolve and the values-mode change stream
   * alike): an executor allowed the plugin. A refusal is recorded as `AccessDenied` naming
   * `action` and the keys, and thrown as 403.
   */
  async authorize(principal: Principal, plugin: string, keys: readonly string[], action: string): Promise<void> {
    if (principal.role !== 'executor') {
      await this.denied.record(principal, action, keys);
      throw new ForbiddenError(`The ${principal.role} role may not resolve secret values.`);
    }
    if (principal.plugins !== null && !principal.plugins.includes(plugin)) {
      await this.denied.record(principal, action, keys);
      throw new ForbiddenError(`This token may not resolve secrets for plugin ${plugin}.`);
    }
  }

  /**
   * What the store holds for these keys now: the values that open, and why each other key has
   * none. Nothing is recorded here: the caller records the delivery (DeliveryRecords) before
   * any value leaves the service.
   */
  async read(keys: readonly string[]): Promise<ValuesRead> {
    // The revision first: the states read after it are at least as new, so a client that takes
    // this revision never skips a change (at worst it resolves once more). Reads see committed
    // state only; a value event never changes once written.
    const reader = this.storage.reader;
    const revision = await this.readModel.revision(reader);
    const states = await this.readModel.resolvable(reader, keys);
    const now = new Date();
    const refused = (state: ResolvableValue) => this.config.expiry.refuseExpired && hasExpired(state.expiresAt, now);
    // A row the log disagrees with is never opened: its value event may be another key's, or an
    // older value of this one (SPEC §3, integrity failures). Nor is a value refused as expired.
    const toOpen = [...states].filter(([, state]) => state.mismatch === undefined && !refused(state));
    const opened = await this.store.openValues(reader, toOpen.map(([key, state]) => ({ eventId: state.valueEventId, stream: secretStream(key) })));
    const found: ValuesRead = { revision, values: new Map(), missing: [], expired: [], unreadable: [] };
    for (const key of keys) {
      const state = states.get(key);
      if (!state) {
        found.missing.push(key);
        continue;
      }
      if (refused(state)) {
        found.expired.push(key);
        continue;
      }
      const value = state.mismatch === undefined ? opened.values.get(state.valueEventId) : undefined;
      if (value) {
        found.values.set(key, { value, version: state.version });
        continue;
      }
      const failure = opened.unreadable.get(state.valueEventId);
      const reason = state.mismatch ?? failure?.reason ?? 'the value did not open';
      found.unreadable.push({ key, version: state.mismatch === undefined ? (failure?.version ?? state.version) : state.version, eventId: state.valueEventId, reason });
    }
    return found;
  }
}

/** What one read of values found, key by key, in the order asked. */
export interface ValuesRead {
  /** The store-wide revision read before the states: they are at least this new. */
  revision: number;
  values: Map<string, { value: SecretValue; version: number }>;
  missing: string[];
  /** With SECRETS_REFUSE_EXPIRED=true: keys withheld because their expiry passed. */
  expired: string[];
  unreadable: UnreadableSighting[];
}

/** The keys and versions a delivery of `found` hands out: what its audit entry names. */
export const versionsRead = (found: ValuesRead) => [...found.values].map(([key, { version }]) => ({ key, version }));

/** The one set of rules for a resolve request, whichever transport brought it (HTTP or NATS). */
function validate(request: ResolveRequest): { plugin: string; keys: string[] } {
  if (typeof request !== 'object' || request === null || Array.isArray(request)) {
    throw new ValidationError('The resolve request must be a JSON object {plugin, keys}.');
  }
  const errors: FieldError[] = Object.keys(request)
    .filter((field) => !RESOLVE_FIELDS.includes(field))
    .map((field) => ({ field: fieldNameFromRequest(field), message: 'is not allowed' }));
  const { plugin, keys } = request;
  if (typeof plugin !== 'string' || !PLUGIN_NAME_PATTERN.test(plugin)) {
    errors.push({ field: 'plugin', message: PLUGIN_NAME_RULE });
  }
  if (!Array.isArray(keys) || keys.length === 0 || keys.length > MAX_KEYS_PER_RESOLVE) {
    errors.push({ field: 'keys', message: `must be an array of 1 to ${MAX_KEYS_PER_RESOLVE} keys` });
  } else {
    const bad = keys.findIndex((key) => !isValidSecretKey(key));
    if (bad !== -1) errors.push({ field: `keys[${bad}]`, message: SECRET_KEY_RULE });
    else if (new Set(keys).size !== keys.length) errors.push({ field: 'keys', message: 'must not repeat a key' });
  }
  if (errors.length > 0) throw new ValidationError('The resolve request is invalid.', errors);
  return { plugin: plugin as string, keys: keys as string[] };
}
