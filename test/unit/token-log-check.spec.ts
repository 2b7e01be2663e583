import { StoredTokenRow, TokenInLog, tokenDisagreements } from '../../src/auth/token-log-check';
import { hashDigest, hashToken } from '../../src/auth/token-secret';

const HASH = hashToken('slt_unit-token');
const ROW: StoredTokenRow = { id: 'tok_1', name: 'runner', role: 'executor', plugins: ['p1'], tokenHash: HASH, createdAt: '2026-01-01T00:00:00.000Z', revokedAt: null };
const LOG: TokenInLog = {
  issued: { data: { id: 'tok_1', name: 'runner', role: 'executor', plugins: ['p1'], hashDigest: hashDigest(HASH) }, at: '2026-01-01T00:00:00.000Z' },
  revokedAt: null,
};

/** One edit of each column an attacker with the database can write, and the field it must be named by. */
const EDITS: [field: string, edit: Partial<StoredTokenRow>][] = [
  ['name', { name: 'bootstrap-admin' }],
  ['role', { role: 'admin' }],
  ['role', { role: 'auditor' }],
  ['plugins', { plugins: null }],
  ['plugins', { plugins: ['p1', 'p2'] }],
  ['plugins', { plugins: [] }],
  ['hash', { tokenHash: hashToken('slt_another-token') }],
  ['createdAt', { createdAt: '2027-01-01T00:00:00.000Z' }],
  ['revokedAt', { revokedAt: '2026-02-01T00:00:00.000Z' }],
];

describe('a tokens row held against its TokenIssued/TokenRevoked events', () => {
  it('agrees with the log it was written with, revoked or not', () => {
    expect(tokenDisagreements(ROW, LOG)).toEqual([]);
    const at = '2026-02-01T00:00:00.000Z';
    expect(tokenDisagreements({ ...ROW, revokedAt: at }, { ...LOG, revokedAt: at })).toEqual([]);
  });

  it.each(EDITS)('names the edited field: %s', (field, edit) => {
    expect(tokenDisagreements({ ...ROW, ...edit }, LOG).map((d) => d.field)).toEqual([field]);
  });

  it('names an un-revoked row, and a row the log never issued', () => {
    expect(tokenDisagreements(ROW, { ...LOG, revokedAt: '2026-02-01T00:00:00.000Z' }).map((d) => d.field)).toEqual(['revokedAt']);
    expect(tokenDisagreements(ROW, { revokedAt: null }).map((d) => d.field)).toEqual(['issued']);
  });

  it('cannot check the hash of a token whose TokenIssued predates hashDigest (SECURITY.md says so)', () => {
    const legacy: TokenInLog = { ...LOG, issued: { ...LOG.issued!, data: { ...LOG.issued!.data, hashDigest: undefined } } };
    expect(tokenDisagreements({ ...ROW, tokenHash: hashToken('slt_another-token') }, legacy)).toEqual([]);
    expect(tokenDisagreements({ ...ROW, role: 'admin' }, legacy).map((d) => d.field)).toEqual(['role']);
  });

  it('never repeats the hash in a reason', () => {
    const reasons = EDITS.flatMap(([, edit]) => tokenDisagreements({ ...ROW, ...edit }, LOG).map((d) => d.reason)).join('\n');
    expect(reasons).toContain('admin'); // control: reasons do carry what differs
    expect(reasons).not.toContain(HASH);
    expect(reasons).not.toContain(hashToken('slt_another-token'));
  });
});
