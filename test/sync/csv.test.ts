import { describe, expect, it } from 'vitest';
import { csvCell, toCsv } from '../../src/sync/csv.js';

describe('toCsv', () => {
  it('joins cells with commas and ends every row with CRLF', () => {
    expect(
      toCsv([
        ['a', 'b'],
        [1, null, undefined, true],
      ]),
    ).toBe('a,b\r\n1,,,true\r\n');
    expect(toCsv([])).toBe('');
  });

  it('quotes cells holding a comma, a quote or a line break (RFC 4180), doubling quotes', () => {
    expect(csvCell('Smith, Jane')).toBe('"Smith, Jane"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('two\nlines')).toBe('"two\nlines"');
    expect(csvCell('plain text')).toBe('plain text');
  });

  it('defuses text a spreadsheet would run as a formula', () => {
    for (const start of ['=', '+', '-', '@', '\t', '\r']) {
      expect(csvCell(`${start}HYPERLINK("http://x")`).replace(/^"/, '')).toMatch(/^'/);
    }
    expect(csvCell('=1+1')).toBe("'=1+1");
    expect(csvCell('@SUM(A1)')).toBe("'@SUM(A1)");
    // Quoted after the prefix when it also needs quoting.
    expect(csvCell('=A1,"B"')).toBe(`"'=A1,""B"""`);
    // Numbers are numbers, not formulas; text merely containing = is left alone.
    expect(csvCell(-3)).toBe('-3');
    expect(csvCell('a=b')).toBe('a=b');
  });
});
