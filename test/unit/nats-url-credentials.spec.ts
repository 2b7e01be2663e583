import { randomBytes, randomInt } from 'node:crypto';
import { redactUrl } from '../../src/common/redact-url';
import { RETRY_DELAY_MS, retryDelay } from '../../src/common/retry-delay';
import { natsOptionsFromEnv, withUrlCredentials } from '../../src/nats/nats-options';

/** Any printable ASCII, including every character a URL's user info must percent-encode. */
function randomText(length: number): string {
  return Array.from({ length }, () => String.fromCharCode(randomInt(0x21, 0x7f))).join('');
}

describe('credentials in NATS_URL move into the connection options (generated)', () => {
  it.each(Array.from({ length: 200 }, (_, i) => [i]))('case %i: user:password@ and token@ decode exactly, and the URL keeps neither', () => {
    const user = randomText(randomInt(1, 12)).replace(/:/g, '_');
    const pass = randomText(randomInt(8, 24));
    const token = randomText(randomInt(8, 32));
    const hosts = Array.from({ length: randomInt(1, 4) }, (_, i) => `nats${i}.example:${4222 + i}`);
    const scheme = randomInt(2) === 0 ? 'nats' : 'tls';

    const withPassword = hosts.map((host) => `${scheme}://${encodeURIComponent(user)}:${encodeURIComponent(pass)}@${host}`).join(',');
    const split = withUrlCredentials({ url: withPassword });
    expect(split.problems).toEqual([]);
    expect(split.options).toEqual({ url: hosts.map((host) => `${scheme}://${host}`).join(','), user, password: pass });

    // Only the first server carries the token: the others share it.
    const withToken = [`${scheme}://${encodeURIComponent(token)}@${hosts[0]}`, ...hosts.slice(1).map((host) => `${scheme}://${host}`)].join(',');
    expect(withUrlCredentials({ url: withToken })).toEqual({ options: { url: hosts.map((host) => `${scheme}://${host}`).join(','), token }, problems: [] });

    // And the same through the environment, as the service and `run` read it.
    const problems: string[] = [];
    const { nats } = natsOptionsFromEnv({ NATS_URL: withPassword }, problems);
    expect(problems).toEqual([]);
    expect(nats).toEqual(split.options);
    expect(redactUrl(withPassword)).toBe(hosts.map((host) => `${scheme}://[credentials]@${host}`).join(','));
  });

  it('a URL without credentials is left as it is', () => {
    expect(withUrlCredentials({ url: 'nats://a:4222,tls://b:4223', token: 't' })).toEqual({ options: { url: 'nats://a:4222,tls://b:4223', token: 't' }, problems: [] });
  });

  it('credentials given twice, or different ones per server, are problems that quote none of them', () => {
    const secret = `s3cret-${randomBytes(4).toString('hex')}`;
    const problems: string[] = [];
    natsOptionsFromEnv({ NATS_URL: `nats://u:${secret}@a:4222`, NATS_TOKEN: `t-${secret}` }, problems);
    natsOptionsFromEnv({ NATS_URL: `nats://u:${secret}@a:4222,nats://v:${secret}x@b:4222` }, problems);
    expect(problems).toEqual([
      'choose one NATS authentication: credentials in NATS_URL, NATS_USER/NATS_PASSWORD, NATS_TOKEN, NATS_NKEY_SEED_FILE or NATS_CREDS_FILE',
      'NATS_URL gives different credentials for different servers: give them once',
    ]);
    expect(problems.join('\n')).not.toContain(secret);
    expect(withUrlCredentials({ url: `nats://u:${secret}@a:4222`, user: 'u', password: secret }).problems).toEqual([
      'NATS credentials are given both in the URL and as options: choose one',
    ]);
  });
});

describe('the NATS retry delay', () => {
  it('doubles with the time already down, stays within 250 ms – 5 s (±20 %), and is jittered', () => {
    const delays = [0, 100, 250, 1_000, 4_000, 60_000, 3_600_000].map((down) => [retryDelay(down, () => 0), retryDelay(down, () => 0.5), retryDelay(down, () => 1)]);
    for (const [low, mid, high] of delays) {
      expect(low).toBeLessThan(mid);
      expect(mid).toBeLessThan(high);
      expect(low).toBeGreaterThanOrEqual(RETRY_DELAY_MS.min * 0.8);
      expect(high).toBeLessThanOrEqual(RETRY_DELAY_MS.max * 1.2);
    }
    expect(delays.map(([, mid]) => mid)).toEqual([250, 250, 250, 1_000, 4_000, 5_000, 5_000]);
  });
});
