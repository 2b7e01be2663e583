import { OpenStreams } from '../../src/changes/open-streams';
import type { ChangeNotification } from '../../src/contract/change-notification';
import { ChangeReader, openChangeReader } from '../support/change-reader';
import { expectEventually } from '../support/expect-eventually';
import { appendSecretChanges } from '../support/ledger-load';
import { ADMIN_TOKEN, useTestApp } from '../support/test-app';

const revisionsOf = (changes: ChangeNotification[]) => changes.map((change) => change.revision);
const range = (from: number, to: number) => Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);

/**
 * SPEC §3: a change stream's reader that stops reading. The bound is the HTTP layer's (what the
 * socket has not taken); the engine only supplies the log, which the change-stream suite reads
 * on both engines. It takes megabytes of changes to get past the kernel's buffers, which
 * SQLite appends in a second or two and PostgreSQL, a round trip per event, in a minute: so
 * this suite runs on SQLite.
 */
describe('a change stream whose reader stops reading', () => {
  const t = useTestApp({ nats: { url: 'nats://127.0.0.1:1' }, streams: { perToken: 4, total: 8, heartbeatMs: 15_000, maxUnsentBytes: 8 * 1024 } });
  const readers: ChangeReader[] = [];
  const open = async (baseUrl: string, token: string, options: Parameters<typeof openChangeReader>[2] = {}) => {
    const reader = await openChangeReader(baseUrl, token, options);
    readers.push(reader);
    return reader;
  };
  const readUntil = async (reader: ChangeReader, revision: number) => {
    await expectEventually(() => expect(reader.changes().at(-1)?.revision ?? -1).toBeGreaterThanOrEqual(revision), 10_000);
    reader.close();
    return reader.changes();
  };
  afterEach(() => readers.splice(0).forEach((reader) => reader.close()));

  it('a reader that stops reading is disconnected, and reconnecting with its last id it misses nothing', async () => {
    // Long keys make long events: the kernel takes megabytes of a loopback socket's unread data
    // before the service's own bound (8 KiB here) is even reached.
    const key = `STALLED_${'K'.repeat(120)}`;
    expect((await t.request('/api/v1/secrets', { method: 'POST', json: { key, value: 'stalled-value' } })).status).toBe(201);
    const reader = await open(t.baseUrl, ADMIN_TOKEN);
    await expectEventually(() => expect(reader.raw().length).toBeGreaterThan(0));
    const streams = t.app.get(OpenStreams);
    const before = streams.size;
    reader.pause();
    let head = 0;
    for (let round = 0; round < 10 && streams.size === before; round++) {
      head = await appendSecretChanges(t.app, key, 5_000);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(streams.size).toBe(before - 1);
    reader.resume();
    await reader.closed;
    const first = revisionsOf(reader.changes());
    expect(first.length).toBeGreaterThan(0);
    expect(first.at(-1)!).toBeLessThan(head);
    expect(first).toEqual(range(first[0], first.at(-1)!));
    const resumed = await open(t.baseUrl, ADMIN_TOKEN, { lastEventId: reader.lastEventId() });
    expect(revisionsOf(await readUntil(resumed, head))).toEqual(range(first.at(-1)! + 1, head));
  }, 60_000);

});
