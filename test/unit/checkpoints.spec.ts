import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignedCheckpoint, checkpointLine, parseCheckpointLines, signatureHolds, signedMessage } from '../../src/checkpoints/checkpoint';
import { DEV_SIGNING_KEY_FILE, SigningKey, loadSigningKey, parseEd25519 } from '../../src/checkpoints/signing-key';
import { FileSink } from '../../src/checkpoints/sink-targets';
import { ConfigError } from '../../src/config/configuration';

const HASH = 'a'.repeat(64);

function signed(key: SigningKey, seq: number, previous = 0): SignedCheckpoint {
  const checkpoint = { seq, hash: HASH, at: '2026-01-01T00:00:00.000Z', previous };
  return { ...checkpoint, keyId: key.keyId, signature: key.sign(signedMessage(checkpoint)) };
}

describe('checkpoint signing key', () => {
  let dir: string;
  let stderr: jest.SpyInstance;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'secrets-ledger-signing-'));
    stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
  });
  afterEach(() => {
    stderr.mockRestore();
    rmSync(dir, { recursive: true, force: true });
  });

  it('outside production, generates a development key file with mode 0600, warns of it, and reuses it', () => {
    const first = loadSigningKey(undefined, dir);
    const file = join(dir, DEV_SIGNING_KEY_FILE);
    expect(first.devKeyFile).toBe(file);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    expect(stderr.mock.calls.join('')).toMatch(/SECRETS_SIGNING_KEY_FILE is unset[\s\S]*signing-key\.dev\.pem {3}\(mode 0600\)/);
    expect(loadSigningKey(undefined, dir).keyId).toBe(first.keyId);
  });

  it('takes SECRETS_SIGNING_KEY_FILE as openssl writes it, and refuses a key that is not Ed25519', () => {
    const file = join(dir, 'key.pem');
    writeFileSync(file, generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const key = loadSigningKey(file, dir);
    expect(key.devKeyFile).toBeUndefined();
    expect(signatureHolds(signed(key, 5), key.publicKey)).toBe(true);
    writeFileSync(file, generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
    expect(() => loadSigningKey(file, dir)).toThrow(ConfigError);
    expect(() => parseEd25519('not a key', 'public', 'publicKey')).toThrow(/publicKey: not a PEM public key/);
  });

  it('a signature covers every field: a changed seq, hash, time or link no longer verifies', () => {
    const key = loadSigningKey(undefined, dir);
    const checkpoint = signed(key, 7, 3);
    for (const change of [{ seq: 8 }, { hash: 'b'.repeat(64) }, { at: '2026-01-01T00:00:00.001Z' }, { previous: 4 }]) {
      expect(signatureHolds({ ...checkpoint, ...change }, key.publicKey)).toBe(false);
    }
    expect(signatureHolds(checkpoint, key.publicKey)).toBe(true);
  });
});

describe('a checkpoints file', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'secrets-ledger-sink-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const key = new SigningKey(generateKeyPairSync('ed25519').privateKey);

  it('reads back what the sink wrote; names malformed lines by number, never their text', () => {
    const lines = [signed(key, 3), signed(key, 9, 3)].map(checkpointLine).join('');
    expect(parseCheckpointLines(`${lines}\n`)).toEqual([signed(key, 3), signed(key, 9, 3)]);
    expect(() => parseCheckpointLines(`${lines}{"seq":"secret-0451"}\nnope-0451\n`)).toThrow(/^line 4 is not JSON$/);
    expect(() => parseCheckpointLines(`${lines}{"seq":"secret-0451"}\n`)).toThrow(/^line 3 is not a checkpoint/);
    expect(() => parseCheckpointLines('\n')).toThrow(/no checkpoint/);
  });

  it('the file sink appends each checkpoint once: one already in the file (a crash before the position was stored) is not written again', async () => {
    const path = join(dir, 'checkpoints.jsonl');
    await new FileSink(path).deliver(signed(key, 3));
    await new FileSink(path).deliver(signed(key, 3));
    await new FileSink(path).deliver(signed(key, 9, 3));
    expect(parseCheckpointLines(readFileSync(path, 'utf8')).map((c) => c.seq)).toEqual([3, 9]);
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('the file sink cuts off a line it never finished (the process died mid-write) before appending', async () => {
    const path = join(dir, 'checkpoints.jsonl');
    writeFileSync(path, `${checkpointLine(signed(key, 3))}{"seq":9,"hash":"aaa`);
    await new FileSink(path).deliver(signed(key, 9, 3));
    expect(parseCheckpointLines(readFileSync(path, 'utf8')).map((c) => c.seq)).toEqual([3, 9]);
  });
});
