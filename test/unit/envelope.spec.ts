import { randomBytes } from 'node:crypto';
import { DecryptionError, freshRandom, newDataKey, open, seal, valueAad } from '../../src/crypto/envelope';
import { MasterKeyring } from '../../src/crypto/master-keyring';
import { SecretValue } from '../../src/crypto/secret-value';
import { inspect } from 'node:util';

describe('envelope encryption', () => {
  const plaintext = Buffer.from('hunter2-plaintext');

  it('round-trips under the same binding', () => {
    const key = newDataKey();
    const aad = valueAad('secret-API', 3, 'evt-1');
    expect(open(key, seal(key, plaintext, aad), aad)).toEqual(plaintext);
  });

  it('never opens a ciphertext bound to another stream, version or event', () => {
    const key = newDataKey();
    const sealed = seal(key, plaintext, valueAad('secret-API', 3, 'evt-1'));
    for (const aad of [valueAad('secret-OTHER', 3, 'evt-1'), valueAad('secret-API', 4, 'evt-1'), valueAad('secret-API', 3, 'evt-2')]) {
      expect(() => open(key, sealed, aad)).toThrow(DecryptionError);
    }
  });

  it('detects a flipped bit and a wrong key', () => {
    const key = newDataKey();
    const aad = valueAad('s', 1, 'e');
    const sealed = seal(key, plaintext, aad);
    const tampered = Buffer.from(sealed);
    tampered[tampered.length - 1] ^= 1;
    expect(() => open(key, tampered, aad)).toThrow(DecryptionError);
    expect(() => open(newDataKey(), sealed, aad)).toThrow(DecryptionError);
  });

  it('uses a fresh IV each time, so equal values give different ciphertexts', () => {
    const key = newDataKey();
    const aad = valueAad('s', 1, 'e');
    expect(seal(key, plaintext, aad).equals(seal(key, plaintext, aad))).toBe(false);
  });

  it('wraps data keys bound to their event and master key id', () => {
    const keyring = new MasterKeyring([{ kid: 'k1', key: randomBytes(32) }, { kid: 'k0', key: randomBytes(32) }]);
    const dataKey = newDataKey();
    const { kid, wrapped } = keyring.wrap(dataKey, 'evt-1');
    expect(kid).toBe('k1');
    expect(keyring.unwrap(kid, wrapped, 'evt-1')).toEqual(dataKey);
    expect(() => keyring.unwrap(kid, wrapped, 'evt-2')).toThrow(DecryptionError);
    expect(() => keyring.unwrap('k0', wrapped, 'evt-1')).toThrow(DecryptionError);
  });
});

describe('SecretValue', () => {
  it('shows nothing through toString, JSON, inspect or template strings', () => {
    const value = new SecretValue('hunter2-plaintext');
    const renderings = [String(value), `${value}`, JSON.stringify({ value }), inspect(value), inspect({ nested: { value } })];
    renderings.forEach((text) => expect(text).not.toContain('hunter2'));
    expect(value.reveal()).toBe('hunter2-plaintext');
  });
});

describe('freshRandom', () => {
  it('never hands out the same bytes twice, across pool refills', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 2_000; i++) seen.add(freshRandom(12).toString('hex'));
    expect(seen.size).toBe(2_000);
    expect(freshRandom(32)).toHaveLength(32);
  });
});
