import { describe, expect, it } from 'vitest';
import { pagesByParent } from '../../../platform/pagination.ts';
import { DecimalScalar, formatMinorUnits, parseDecimalToMinorUnits } from '../../../platform/scalars.ts';

describe('money as Decimal strings over integer minor units', () => {
  it.each([
    [0, '0.00'],
    [5, '0.05'],
    [1999, '19.99'],
    [-250, '-2.50'],
    [123456789, '1234567.89'],
  ])('formats %i minor units as %s and parses it back', (minor, text) => {
    expect(formatMinorUnits(minor)).toBe(text);
    expect(parseDecimalToMinorUnits(text)).toBe(minor);
  });

  it('parses one-place and whole amounts exactly, without floating-point drift', () => {
    expect(parseDecimalToMinorUnits('0.1')).toBe(10);
    expect(parseDecimalToMinorUnits('19')).toBe(1900);
    expect(parseDecimalToMinorUnits('1.15')).toBe(115);
  });

  it.each(['1.234', 'abc', '1e3', '', '--1', '1.'])('rejects %j with BAD_USER_INPUT', (text) => {
    expect(() => DecimalScalar.parseValue(text)).toThrow(expect.objectContaining({ extensions: { code: 'BAD_USER_INPUT' } }));
  });

  it('refuses to serialise a number, so a resolver cannot leak minor units as a price', () => {
    expect(() => DecimalScalar.serialize(1999)).toThrow();
    expect(() => formatMinorUnits(19.99)).toThrow();
  });
});

describe('pages for many parents from one windowed query', () => {
  const rows = [
    { user_id: 'b', total_count: 3, id: 1 },
    { user_id: 'b', total_count: 3, id: 2 },
  ];

  it('returns a page per parent in the order asked, empty with total 0 for a parent without rows', async () => {
    const countMissing = async () => {
      throw new Error('no count query without a cursor');
    };
    const pages = await pagesByParent(['a', 'b'], rows, { hasAfter: false, countMissing });
    expect(pages).toEqual([{ rows: [], totalCount: 0 }, { rows, totalCount: 3 }]);
  });

  it('past the end of a list, counts only the parents with no row, in one query', async () => {
    const calls: string[][] = [];
    const pages = await pagesByParent(['a', 'b', 'c'], rows, {
      hasAfter: true,
      countMissing: async (missing) => {
        calls.push(missing);
        return [{ user_id: 'a', total_count: 7 }];
      },
    });
    expect(calls).toEqual([['a', 'c']]);
    expect(pages.map((page) => page.totalCount)).toEqual([7, 3, 0]);
    expect(pages[0]!.rows).toEqual([]);
  });
});
