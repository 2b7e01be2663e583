import type { StateDisagreement } from '../contract/api-types';
import { TokenInLog, TokenIssuedData, tokenDisagreements } from '../auth/token-log-check';
import { TokensRepository, tokenStream } from '../auth/tokens-repository';
import { ReplayedEvent, toRecordedEvent } from '../event-store/event';
import { logRows } from '../event-store/log-rows';
import { replayPages } from '../event-store/replay';
import { SECRET_EVENT_TYPES, StoredEventType, eventTypesOf } from '../event-store/stored-event-types';
import { evolve } from '../secrets/domain/decider';
import { DestructionFact, SecretFact, secretStream } from '../secrets/domain/events';
import { ABSENT, PresentSecretState, SecretState } from '../secrets/domain/secret-state';
import { SecretsReadModel } from '../secrets/secrets-read-model';
import type { SqlSession } from '../storage/sql';

const SECRET_FIELDS = ['status', 'version', 'description', 'createdAt', 'createdBy', 'updatedAt', 'updatedBy', 'valueEventId', 'expiresAt'] as const;
const TOKEN_EVENT_TYPES = eventTypesOf('token');

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Holds the secrets read model and the tokens table against the log: the log's secret and token
 * events are replayed (the same `evolve` as the inline projection), then the tables are read, and
 * each row is compared field by field.
 *
 * Writers keep running meanwhile. A write changes a table and appends its events in one
 * transaction, and the tables are read after the replay, so a row can only be newer than the
 * replay, never older: a row that is ahead of it is compared with its stream as read after the
 * row (for a secret, up to the row's version), which a concurrent write cannot make disagree.
 */
export async function checkStateAgainstLog(session: SqlSession): Promise<StateDisagreement[]> {
  return [...(await checkSecrets(session)), ...(await checkTokens(session)), ...(await checkDataKeys(session))];
}

/**
 * Every sealed value has its wrapped data key, but for the versions the log destroyed, which have
 * none: a key deleted without `SecretVersionDestroyed` in the chain (an attacker's, or a botched
 * restore) is reported, and so is a destroyed key that is back. The table is read before the
 * destroys for the first (a destroy deletes and appends in one transaction, so a key that was
 * gone by then has its event by now), and after them for the second.
 */
async function checkDataKeys(session: SqlSession): Promise<StateDisagreement[]> {
  const keyless = await session.all<{ stream: string; version: number }>(
    'SELECT e.stream, e.version FROM events e LEFT JOIN data_keys k ON k.event_id = e.id WHERE e.ciphertext IS NOT NULL AND k.event_id IS NULL ORDER BY e.seq',
  );
  const destroyed = new Set<string>();
  for await (const page of replayPages(session, [StoredEventType.SecretVersionDestroyed])) {
    for (const event of page as DestructionFact[]) destroyed.add(versionId(event.data.key, event.data.version));
  }
  const found: StateDisagreement[] = [];
  for (const { stream, version } of keyless) {
    const key = stream.slice(secretStream('').length);
    if (!destroyed.delete(versionId(key, version))) {
      found.push({ table: 'data_keys', key, field: `version ${version}`, reason: 'the data key of this sealed value is gone, and the log records no destroy of it' });
    }
  }
  // What is left was destroyed in the log yet still has its data key.
  for (const id of destroyed) {
    const [key, version] = id.split('\n');
    found.push({ table: 'data_keys', key, field: `version ${version}`, reason: 'the log destroyed the data key of this version, and the table holds one' });
  }
  return found;
}

const versionId = (key: string, version: number) => `${key}\n${version}`;

async function checkSecrets(session: SqlSession): Promise<StateDisagreement[]> {
  const replayed = new Map<string, SecretState>();
  for await (const page of replayPages(session, SECRET_EVENT_TYPES)) {
    for (const event of page as SecretFact[]) replayed.set(event.data.key, evolve(replayed.get(event.data.key) ?? ABSENT, event));
    await yieldToEventLoop();
  }
  const rows = await new SecretsReadModel().snapshot(session);
  const found: StateDisagreement[] = [];
  for (const row of rows) {
    let expected = replayed.get(row.key) ?? ABSENT;
    replayed.delete(row.key);
    // Newer than the replay (a write since), or a key the replay never saw: its stream, read now.
    if (row.version > expected.version) expected = await streamState(session, row.key, row.version);
    found.push(...secretDisagreements(row, expected));
  }
  for (const [key, state] of replayed) {
    if (state.status !== 'absent') found.push({ table: 'secrets', key, field: 'key', reason: 'the log has this key; the read model has no row for it' });
  }
  return found;
}

/** A key's state as its stream says, up to `version`. */
async function streamState(session: SqlSession, key: string, version: number): Promise<SecretState> {
  const events = (await logRows.readStream(session, secretStream(key))).map(toRecordedEvent).filter((event) => event.version <= version);
  return events.reduce((state, event) => evolve(state, event as unknown as SecretFact), ABSENT);
}

function secretDisagreements(row: PresentSecretState, expected: SecretState): StateDisagreement[] {
  const at = { table: 'secrets' as const, key: row.key };
  if (expected.status === 'absent') return [{ ...at, field: 'key', reason: 'the read model has a row for a key the log never added' }];
  return SECRET_FIELDS.filter((field) => row[field] !== expected[field]).map((field) => ({
    ...at,
    field,
    reason: `the read model says ${JSON.stringify(row[field])}; the log says ${JSON.stringify(expected[field])}`,
  }));
}

async function checkTokens(session: SqlSession): Promise<StateDisagreement[]> {
  const replayed = new Map<string, TokenInLog>();
  for await (const page of replayPages(session, TOKEN_EVENT_TYPES)) {
    for (const event of page) foldToken(replayed, event);
    await yieldToEventLoop();
  }
  const rows = await new TokensRepository().storedRows(session);
  const found: StateDisagreement[] = [];
  for (const row of rows) {
    let log = replayed.get(row.id) ?? { revokedAt: null };
    replayed.delete(row.id);
    // Issued or revoked since the replay: its stream, read after the row.
    if (!log.issued || (row.revokedAt !== null && log.revokedAt === null)) log = await tokenStreamFacts(session, row.id);
    found.push(...tokenDisagreements(row, log).map(({ field, reason }) => ({ table: 'tokens' as const, id: row.id, field, reason })));
  }
  for (const id of replayed.keys()) found.push({ table: 'tokens', id, field: 'id', reason: 'the log issued this token; the tokens table has no row for it' });
  return found;
}

function foldToken(tokens: Map<string, TokenInLog>, event: ReplayedEvent): void {
  const id = tokenIdOf(event.stream);
  const facts = tokens.get(id) ?? { revokedAt: null };
  if (event.type === StoredEventType.TokenIssued) facts.issued = { data: event.data as TokenIssuedData, at: event.at };
  if (event.type === StoredEventType.TokenRevoked) facts.revokedAt = event.at;
  tokens.set(id, facts);
}

async function tokenStreamFacts(session: SqlSession, id: string): Promise<TokenInLog> {
  const tokens = new Map<string, TokenInLog>();
  for (const event of (await logRows.readStream(session, tokenStream(id))).map(toRecordedEvent)) foldToken(tokens, event);
  return tokens.get(id) ?? { revokedAt: null };
}

/** The token id of a `token-<id>` stream: the stream, not the event's data, is what the row's id must match. */
function tokenIdOf(stream: string): string {
  return stream.slice(tokenStream('').length);
}
