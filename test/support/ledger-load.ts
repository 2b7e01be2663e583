import type { INestApplicationContext } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { ANY_VERSION, EventStore } from '../../src/event-store/event-store';
import { StoredEventType } from '../../src/event-store/stored-event-types';
import { secretStream } from '../../src/secrets/domain/events';
import { SecretsReadModel } from '../../src/secrets/secrets-read-model';
import { STORAGE, Storage } from '../../src/storage/sql';

/**
 * A long log the quick way: `count` AccessDenied events appended through the app's own event
 * store (hashes, chain and all), `batch` to a transaction. Returns the head seq.
 */
export async function seedAuditEvents(app: INestApplicationContext, count: number, batch = 10_000): Promise<number> {
  const storage = app.get<Storage>(STORAGE);
  const store = app.get(EventStore);
  for (let start = 0; start < count; start += batch) {
    const events = Array.from({ length: Math.min(batch, count - start) }, (_, i) => ({
      type: StoredEventType.AccessDenied,
      data: { action: `GET /api/v1/tokens#${start + i}`, suppressed: 0 },
    }));
    await storage.transact((tx) => store.appendToStream(tx, 'bulk', ANY_VERSION, events, { id: 'tok_bulk', name: 'bulk', role: 'auditor' }));
  }
  return (await store.head(storage.reader)).seq;
}

/** One call to the service's API; never throws (a dead service is an `undefined` response). */
export async function call(url: string, token: string, path: string, init: { method?: string; json?: unknown } = {}): Promise<Response | undefined> {
  return fetch(url + path, {
    method: init.method ?? 'GET',
    headers: { authorization: `Bearer ${token}`, ...(init.json !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: init.json !== undefined ? JSON.stringify(init.json) : undefined,
  }).catch(() => undefined);
}

/**
 * What a client was told about each key it wrote: every value it sent, in order, and how many of
 * them were acknowledged. After a crash the stored value must be the last acknowledged one or a
 * later one that was in flight (it may have committed without its answer getting out).
 */
export class WriteJournal {
  private readonly sent = new Map<string, { values: string[]; acknowledged: number }>();

  sending(key: string, value: string): () => void {
    const entry = this.sent.get(key) ?? { values: [], acknowledged: 0 };
    this.sent.set(key, entry);
    entry.values.push(value);
    const index = entry.values.length;
    return () => {
      entry.acknowledged = Math.max(entry.acknowledged, index);
    };
  }

  /** Keys with at least one acknowledged write, and the values each may hold now. */
  acceptable(): Map<string, string[]> {
    const result = new Map<string, string[]>();
    for (const [key, entry] of this.sent) if (entry.acknowledged > 0) result.set(key, entry.values.slice(entry.acknowledged - 1));
    return result;
  }

  get acknowledgedCount(): number {
    return [...this.sent.values()].filter((entry) => entry.acknowledged > 0).length;
  }
}

export interface Load {
  journal: WriteJournal;
  /** Token ids whose issue, and whose revocation, were acknowledged. */
  tokens: { issued: string[]; revoked: string[] };
  /** Unexpected answers while the service was up (a dead service is not one of them). */
  failures: string[];
  resolves: number;
  stop(): Promise<void>;
}

/**
 * Concurrent traffic against a running service: writers that add and update keys, resolvers that
 * check every value they get against what was written, and token issue/revoke. Runs until
 * `stop()`. With `tolerateDeath`, a request that gets no answer at all ends its loop quietly.
 */
export function startLoad(options: {
  url: string;
  adminToken: string;
  executorToken: string;
  /** Keys with fixed values, resolved and checked throughout. */
  stable: Record<string, string>;
  prefix: string;
  writers?: number;
  resolvers?: number;
  tokenChanges?: boolean;
}): Load {
  const { url, adminToken, executorToken, stable, prefix } = options;
  const journal = new WriteJournal();
  const failures: string[] = [];
  const tokens = { issued: [] as string[], revoked: [] as string[] };
  let running = true;
  let resolves = 0;
  const stableKeys = Object.keys(stable);

  const writer = async (w: number) => {
    for (let i = 0; running; i++) {
      const key = `${prefix}_W${w}_${i % 20}`;
      const value = `load-${randomBytes(6).toString('hex')}`;
      const acknowledged = journal.sending(key, value);
      const res = i < 20 ? await call(url, adminToken, '/api/v1/secrets', { method: 'POST', json: { key, value } }) : await call(url, adminToken, `/api/v1/secrets/${key}`, { method: 'PATCH', json: { value } });
      if (!res) return;
      if (res.status === 201 || res.status === 200) acknowledged();
      else failures.push(`write ${key}: ${res.status} ${await res.text()}`);
    }
  };
  const resolver = async () => {
    while (running) {
      const keys = stableKeys.sort(() => Math.random() - 0.5).slice(0, 12);
      const res = await call(url, executorToken, '/api/v1/resolve', { method: 'POST', json: { plugin: 'load', keys } });
      if (!res) return;
      if (res.status !== 200) {
        failures.push(`resolve: ${res.status} ${await res.text()}`);
        continue;
      }
      const body = (await res.json()) as { secrets: Record<string, string>; missing: string[]; unreadable: string[] };
      resolves += 1;
      const wrong = keys.filter((key) => body.secrets[key] !== stable[key]);
      if (wrong.length > 0) failures.push(`resolve: ${wrong.join(', ')} not resolved (missing ${body.missing}, unreadable ${body.unreadable})`);
    }
  };
  const tokenChanger = async () => {
    while (running) {
      const issued = await call(url, adminToken, '/api/v1/tokens', { method: 'POST', json: { name: 'churn', role: 'executor' } });
      if (!issued) return;
      if (issued.status !== 201) {
        failures.push(`token issue: ${issued.status}`);
        continue;
      }
      const { id } = (await issued.json()) as { id: string };
      tokens.issued.push(id);
      const revoked = await call(url, adminToken, `/api/v1/tokens/${id}`, { method: 'DELETE' });
      if (!revoked) return;
      if (revoked.status === 204) tokens.revoked.push(id);
      else failures.push(`token revoke: ${revoked.status}`);
    }
  };

  const loops = [
    ...Array.from({ length: options.writers ?? 2 }, (_, w) => writer(w)),
    ...Array.from({ length: options.resolvers ?? 2 }, () => resolver()),
    ...(options.tokenChanges ? [tokenChanger()] : []),
  ];
  return {
    journal,
    tokens,
    failures,
    get resolves() {
      return resolves;
    },
    stop: async () => {
      running = false;
      await Promise.all(loops);
    },
  };
}

/**
 * A long run of secret-state changes the quick way: `count` value-free `SecretUpdated` events of
 * one existing secret, stamped with the next revisions and appended through the app's own event
 * store in one transaction (the read model keeps the key's old version; use the key for nothing
 * else). For readers of the changes that need megabytes of them. Resolves with the new revision.
 */
export async function appendSecretChanges(app: INestApplicationContext, key: string, count: number): Promise<number> {
  const storage = app.get<Storage>(STORAGE);
  const store = app.get(EventStore);
  const readModel = app.get(SecretsReadModel);
  return storage.transact(async (tx) => {
    const { revision } = await readModel.loadWithRevision(tx, key);
    const events = Array.from({ length: count }, (_, i) => ({
      type: StoredEventType.SecretUpdated,
      data: { key, valueChanged: false, revision: revision + i + 1 },
      keys: [key],
    }));
    await store.appendToStream(tx, secretStream(key), ANY_VERSION, events, { id: 'tok_bulk', name: 'bulk', role: 'admin' });
    await readModel.setRevision(tx, revision + count);
    tx.announce('secret_changes');
    return revision + count;
  });
}
