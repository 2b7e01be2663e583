import { AccessDeniedRecorder } from '../../src/auth/access-denied.recorder';
import type { Principal } from '../../src/auth/principal';
import { AuditLog } from '../../src/audit/audit-log';
import { openEventStore } from '../support/event-store';
import { tempDataDir } from '../support/test-app';

describe('AccessDenied recording is bounded per principal', () => {
  const data = tempDataDir();
  afterAll(() => data.cleanup());

  it('records 10 refusals a minute per principal, counts the rest, and reports the count in the next record', async () => {
    const { db, store, writer, close } = await openEventStore(data.dir);
    let now = 0;
    const recorder = new AccessDeniedRecorder(writer, store, 10, 60_000, () => now);
    const flooder: Principal = { id: 'tok_flood', name: 'flood', role: 'executor', plugins: null };
    const other: Principal = { id: 'tok_other', name: 'other', role: 'auditor', plugins: null };
    const log = new AuditLog(db);
    const denials = (actor: string) => log.page({ type: 'AccessDenied', actor }, 0, 1000).items.map((e) => e.data);
    try {
      for (let i = 0; i < 25; i++) await recorder.record(flooder, 'GET /api/v1/tokens');
      await recorder.record(other, 'POST /api/v1/secrets');
      expect(denials('tok_flood')).toHaveLength(10);
      expect(denials('tok_other')).toEqual([{ action: 'POST /api/v1/secrets', suppressed: 0 }]);

      now = 60_000;
      await recorder.record(flooder, 'GET /api/v1/tokens');
      expect(denials('tok_flood')).toHaveLength(11);
      expect(denials('tok_flood')[10]).toEqual({ action: 'GET /api/v1/tokens', suppressed: 15 });
    } finally {
      await close();
    }
  });
});
