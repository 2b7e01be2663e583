import { renderVerifyResult } from '../../src/cli/audit/verify-report';

const HEAD = { seq: 9, hash: 'a'.repeat(64) };

/** What `audit verify` prints for a result, from any source: the summary, then every further field. */
describe('renderVerifyResult', () => {
  it('an intact chain: the ok line alone', () => {
    expect(renderVerifyResult({ ok: true, checked: 9, head: HEAD })).toBe(`ok: 9 events checked; head seq 9 hash ${'a'.repeat(64)}\n`);
  });

  it('a broken chain: the seq and the reason, then what was read', () => {
    expect(renderVerifyResult({ ok: false, checked: 4, head: HEAD, brokenAt: 4, reason: 'the hash of seq 4 does not match its content (edited row)' })).toBe(
      'BROKEN at seq 4: the hash of seq 4 does not match its content (edited row)\n(4 events read; head seq 9)\n',
    );
  });

  it('fields it does not know are printed as they came, a list item a line, and a failure without a broken seq is not ok', () => {
    const text = renderVerifyResult({
      ok: false,
      checked: 9,
      head: HEAD,
      disagreements: [{ table: 'tokens', id: 'tok_1', problem: 'revoked in the log, active in the table' }, 'read model row KEY_2 names seq 3'],
      readModel: { rows: 2 },
    });
    expect(text.split('\n')).toEqual([
      'NOT OK',
      '(9 events checked; head seq 9)',
      'disagreements: 2',
      '  - {"table":"tokens","id":"tok_1","problem":"revoked in the log, active in the table"}',
      '  - read model row KEY_2 names seq 3',
      'readModel: {"rows":2}',
      '',
    ]);
    expect(text).not.toMatch(/^ok/);
  });
});
