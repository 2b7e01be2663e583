import { AccessDeniedRecorder } from '../../src/auth/access-denied.recorder';
import type { Principal } from '../../src/auth/principal';
import { OTHERS, RefusalRecorder } from '../../src/auth/refusal-recorder';
import { AuditLog } from '../../src/audit/audit-log';
import { openEventStore } from '../support/event-store';
import { tempDataDir } from '../support/test-app';

describe('AccessDenied recording is bounded per principal', () => {
  const data = tempDataDir();
  afterAll(() => data.cleanup());

  it('records 10 refusals a minute per principal, counts the rest, and reports the count in the next record', async () => {
    const { storage, store, close } = await openEventStore(data.dir);
    let now = 0;
    const recorder = new AccessDeniedRecorder(storage, store, 10, 60_000, () => now);
    const flooder: Principal = { id: 'tok_flood', name: 'flood', role: 'executor', plugins: null };
    const other: Principal = { id: 'tok_other', name: 'other', role: 'auditor', plugins: null };
    const log = new AuditLog(storage.reader);
    const denials = async (actor: string) => (await log.page({ type: 'AccessDenied', actor }, 0, 1000)).items.map((e) => e.data);
    try {
      for (let i = 0; i < 25; i++) await recorder.record(flooder, 'GET /api/v1/tokens');
      await recorder.record(other, 'POST /api/v1/secrets');
      expect(await denials('tok_flood')).toHaveLength(10);
      expect(await denials('tok_other')).toEqual([{ action: 'POST /api/v1/secrets', suppressed: 0 }]);

      now = 60_000;
      await recorder.record(flooder, 'GET /api/v1/tokens');
      expect(await denials('tok_flood')).toHaveLength(11);
      expect((await denials('tok_flood'))[10]).toEqual({ action: 'GET /api/v1/tokens', suppressed: 15 });
    } finally {
      await close();
    }
  });
});

describe('the refusal bound under a flood from many sources', () => {
  const data = tempDataDir();
  afterAll(() => data.cleanup());

  it('caps recorded refusals across sources, tracks a bounded number of sources, and a flush writes every held-back count in a bounded number of events', async () => {
    const { storage, store, close } = await openEventStore(data.dir);
    const now = 0;
    const recorder = new RefusalRecorder(
      storage,
      store,
      'AuthenticationFailed',
      'authentication-failures',
      { perWindow: 2, totalPerWindow: 50, windowMs: 60_000, tracked: 100, flushedPerWindow: 10 },
      (clientAddress) => ({ clientAddress }),
      () => now,
    );
    const actor = { id: 'anonymous', name: 'anonymous', role: 'none' };
    const rows = async () =>
      (await new AuditLog(storage.reader).page({ type: 'AuthenticationFailed' }, 0, 1000)).items.map((e) => e.data as { suppressed: number; action?: string; clientAddress: string });
    const counted = async () => (await rows()).reduce((sum, row) => sum + row.suppressed + (row.action ? 1 : 0), 0);
    try {
      // 1,000 addresses, 3 refusals each: 3,000 refusals.
      for (let address = 0; address < 1_000; address++) {
        for (let i = 0; i < 3; i++) await recorder.record({ by: `10.0.${address >> 8}.${address & 255}`, actor, data: { action: 'GET /api/v1/secrets', clientAddress: 'x' } });
      }
      expect(await rows()).toHaveLength(50);
      await recorder.flush();
      // 50 recorded + at most 10 per-address counts + one for all the others.
      expect((await rows()).length).toBeLessThanOrEqual(50 + 10 + 1);
      expect(await counted()).toBe(3_000);
      expect((await rows()).some((row) => row.clientAddress === OTHERS)).toBe(true);
      // Nothing held back: a second flush writes nothing.
      const before = (await rows()).length;
      await recorder.flush();
      expect(await rows()).toHaveLength(before);
    } finally {
      await close();
    }
  });
});
