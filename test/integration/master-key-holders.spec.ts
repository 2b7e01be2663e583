import { randomBytes } from 'node:crypto';
import { SYSTEM_ACTOR } from '../../src/auth/principal';
import { MasterKeyring } from '../../src/crypto/master-keyring';
import { SecretValue } from '../../src/crypto/secret-value';
import { EventStore } from '../../src/event-store/event-store';
import { StoredEventType } from '../../src/event-store/stored-event-types';
import { HOLDER_TTL_MS, KeyHolder, keyHolders } from '../../src/master-keys/key-holders';
import { MasterKeyRotation } from '../../src/master-keys/master-key-rotation';
import { ENGINES, TestStorage, openTestStorage } from '../support/engines';

const key = (kid: string) => ({ kid, key: randomBytes(32) });
const holder = (instance: string, activeKid: string, heldKids: string[]): KeyHolder => ({
  instance,
  host: 'test-host',
  pid: 4242,
  activeKid,
  heldKids,
  startedAt: new Date().toISOString(),
});

/** The rotation's rules over master_key_holders, on both engines (SPEC §8). */
describe.each(ENGINES)('master-key rotation and the live key holders on %s', (engine) => {
  let storage: TestStorage;
  const [k1, k2] = [key('k1'), key('k2')];

  beforeEach(async () => {
    storage = await openTestStorage(engine, 'key-holders');
    // One value wrapped by k1.
    const store = new EventStore(new MasterKeyring([k1]));
    await storage.storage.transact((tx) =>
      store.appendToStream(tx, 'secret-A', 0, [{ type: StoredEventType.SecretAdded, data: { key: 'A' }, value: new SecretValue('a'), keys: ['A'] }], SYSTEM_ACTOR),
    );
  });
  afterEach(() => storage.cleanup());

  const announce = (h: KeyHolder, now = Date.now()) => storage.storage.transact((tx) => keyHolders.announce(tx, h, now));
  const kids = async () => (await storage.storage.reader.all<{ kid: string }>('SELECT DISTINCT kid FROM data_keys')).map((r) => r.kid);
  const rotate = (keyring: MasterKeyring) => new MasterKeyRotation(storage.storage, new EventStore(keyring), keyring).rotate();

  it('refuses while a live instance lacks the target key, naming it, and rewraps nothing', async () => {
    await announce(holder('inst-1', 'k1', ['k1']));
    await expect(rotate(new MasterKeyring([k2, k1]))).rejects.toThrow(/instance inst-1 \(host test-host, pid 4242\) does not hold master key k2/);
    expect(await kids()).toEqual(['k1']);
  });

  it('ignores an expired row (an instance that died) and a withdrawn one', async () => {
    await announce(holder('dead', 'k1', ['k1']), Date.now() - HOLDER_TTL_MS - 1);
    await announce(holder('stopped', 'k1', ['k1']));
    await storage.storage.transact((tx) => keyHolders.withdraw(tx, 'stopped'));
    const result = await rotate(new MasterKeyring([k2, k1]));
    expect(result).toMatchObject({ to: 'k2', rewrapped: 1, retirable: ['k1'] });
  });

  it('does not call a key retirable while a live instance wraps with it, even with no data key under it', async () => {
    await announce(holder('old', 'k1', ['k1', 'k2']));
    const result = await rotate(new MasterKeyring([k2, k1]));
    expect(result).toMatchObject({ to: 'k2', rewrapped: 1, retirable: [] });
    expect(await kids()).toEqual(['k2']);
  });
});

