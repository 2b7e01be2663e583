import { lastUseDue } from '../../src/auth/token-last-use';

describe('when a token use is written', () => {
  const now = new Date('2026-12-07T10:00:00.000Z');

  it('writes a use when none is stored or the one stored is over a minute old, not otherwise', () => {
    expect(lastUseDue(null, now)).toBe(true);
    expect(lastUseDue('2026-12-07T09:58:59.999Z', now)).toBe(true);
    expect(lastUseDue('2026-12-07T09:59:00.000Z', now)).toBe(false);
    expect(lastUseDue('2026-12-07T09:59:59.000Z', now)).toBe(false);
    // A time ahead of this instance's clock (another instance's) is recent, not due.
    expect(lastUseDue('2026-12-07T10:00:30.000Z', now)).toBe(false);
  });
});
