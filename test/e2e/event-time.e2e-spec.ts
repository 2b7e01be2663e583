import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { AuditLog } from '../../src/audit/audit-log';
import { MasterKeyring } from '../../src/crypto/master-keyring';
import { EventStore } from '../../src/event-store/event-store';
import { dataSourceOptions, rawConnection } from '../../src/storage/database.module';
import { SqliteWriter } from '../../src/storage/sqlite-writer';
import { tempDataDir } from '../support/test-app';

describe('time in the log never goes backwards', () => {
  const data = tempDataDir();
  let dataSource: DataSource;
  afterAll(async () => {
    await dataSource.destroy();
    data.cleanup();
  });

  it('a clock stepped back stamps the previous time, and time filters still select exactly', async () => {
    dataSource = await new DataSource(dataSourceOptions(join(data.dir, 'secrets.db'))).initialize();
    const db = rawConnection(dataSource);
    const times = ['2026-03-01T10:00:00.000Z', '2026-03-01T10:00:05.000Z', '2026-03-01T10:00:01.000Z', '2026-03-01T10:00:09.000Z'];
    let tick = 0;
    const store = new EventStore(db, new MasterKeyring([{ kid: 'k', key: randomBytes(32) }]), { now: () => new Date(times[tick++]) });
    const writer = new SqliteWriter(db);
    for (let i = 0; i < times.length; i++) {
      await writer.write(() => store.appendToStream('s', -1, [{ type: 'Tick', data: { i } }], { id: 'a', name: 'a', role: 'system' }));
    }
    const log = new AuditLog(db);
    const all = log.page({}, 0, 10).items;
    expect(all.map((e) => e.at)).toEqual([times[0], times[1], times[1], times[3]]);
    expect(log.page({ from: '2026-03-01T10:00:05.000Z' }, 0, 10).items.map((e) => e.seq)).toEqual([2, 3, 4]);
    expect(log.page({ to: '2026-03-01T10:00:05.000Z' }, 0, 10).items.map((e) => e.seq)).toEqual([1]);
    expect(log.page({ from: '2026-03-01T10:00:06.000Z', to: '2026-03-01T10:00:07.000Z' }, 0, 10).items).toEqual([]);
    expect(log.page({ from: '2026-03-01T11:00:00.000Z' }, 0, 10)).toEqual({ items: [], next: null });
  });
});
