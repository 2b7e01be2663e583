import { AuditLog } from '../../src/audit/audit-log';
import { ANY_VERSION } from '../../src/event-store/event-store';
import { StoredEventType } from '../../src/event-store/stored-event-types';
import { openEventStore } from '../support/event-store';
import { tempDataDir } from '../support/test-app';

describe('time in the log never goes backwards', () => {
  const data = tempDataDir();
  afterAll(() => data.cleanup());

  it('a clock stepped back stamps the previous time, and time filters still select exactly', async () => {
    const times = ['2026-03-01T10:00:00.000Z', '2026-03-01T10:00:05.000Z', '2026-03-01T10:00:01.000Z', '2026-03-01T10:00:09.000Z'];
    let tick = 0;
    const { storage, store, close } = await openEventStore(data.dir, { now: () => new Date(times[tick++]) });
    try {
      for (let i = 0; i < times.length; i++) {
        await storage.transact((tx) => store.appendToStream(tx, 's', ANY_VERSION, [{ type: StoredEventType.AccessDenied, data: { action: `tick ${i}` } }], { id: 'a', name: 'a', role: 'system' }));
      }
      const log = new AuditLog(storage.reader);
      expect((await log.page({}, 0, 10)).items.map((e) => e.at)).toEqual([times[0], times[1], times[1], times[3]]);
      expect((await log.page({ from: '2026-03-01T10:00:05.000Z' }, 0, 10)).items.map((e) => e.seq)).toEqual([2, 3, 4]);
      expect((await log.page({ to: '2026-03-01T10:00:05.000Z' }, 0, 10)).items.map((e) => e.seq)).toEqual([1]);
      expect((await log.page({ from: '2026-03-01T10:00:06.000Z', to: '2026-03-01T10:00:07.000Z' }, 0, 10)).items).toEqual([]);
      expect(await log.page({ from: '2026-03-01T11:00:00.000Z' }, 0, 10)).toEqual({ items: [], next: null });
    } finally {
      await close();
    }
  });
});
