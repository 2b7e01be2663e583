import fc from 'fast-check';
import { neutraliseFormula } from '../../src/audit/audit-export';

/** What a spreadsheet may run as a formula, after skipping leading whitespace (OWASP's CSV injection list, fullwidth forms and `|` included). */
const RISKY_START = ['=', '+', '-', '@', '|', '\uFF1D', '\uFF0B', '\uFF0D', '\uFF20', '\uFF5C'];
const LEADING_SPACE = [' ', '\t', '\r', '\n', '\u00a0', '\u3000', '\u2003'];

describe('CSV export cells (OWASP CSV injection)', () => {
  it('every generated cell that starts a formula, after any leading whitespace, gets a leading quote', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...LEADING_SPACE), { maxLength: 4 }), fc.constantFrom(...RISKY_START), fc.string(), (space, start, rest) => {
        const cell = `${space.join('')}${start}${rest}`;
        expect(neutraliseFormula(cell)).toBe(`'${cell}`);
      }),
      { numRuns: 2_000, seed: 17 },
    );
  });

  it('a cell starting with a tab or a carriage return is quoted whatever follows', () => {
    for (const cell of ['\tTAB', '\rCR', '\n=1+1', ' =1+1', '\r\n@x']) expect(neutraliseFormula(cell)).toBe(`'${cell}`);
  });

  it('plain text, numbers and JSON cells pass unchanged (the rule does not quote everything)', () => {
    for (const cell of ['reviewer', 'A=B', 'x-1', '{"key":"A"}', 'tok_1', ' plain', '2026-12-07T00:00:00.000Z']) expect(neutraliseFormula(cell)).toBe(cell);
    expect(neutraliseFormula(42)).toBe(42);
  });
});
