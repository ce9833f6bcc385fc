import { describe, expect, it } from 'vitest';
import { parsePage, toConnection } from '../../../platform/pagination.ts';

describe('Relay pagination arguments', () => {
  const isString = (value: unknown): value is string => typeof value === 'string';

  it('defaults first to 20 and bounds it to 0..1000', () => {
    expect(parsePage({}, isString).limit).toBe(20);
    expect(parsePage({ first: 0 }, isString).limit).toBe(0);
    expect(() => parsePage({ first: 1001 }, isString)).toThrow('first must be between 0 and 1000');
    expect(() => parsePage({ first: -1 }, isString)).toThrow(expect.objectContaining({ extensions: { code: 'BAD_USER_INPUT', field: 'first' } }));
  });

  it('round-trips its own cursors and rejects anything else', () => {
    const connection = toConnection(['a', 'b', 'c'], { limit: 2, hasAfter: false, totalCount: 3, cursorOf: (node) => node });
    expect(connection.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
    expect(connection.edges.map((edge) => edge.node)).toEqual(['a', 'b']);
    expect(parsePage({ after: connection.pageInfo.endCursor }, isString).after).toBe('b');
    expect(() => parsePage({ after: '%%%' }, isString)).toThrow(expect.objectContaining({ extensions: { code: 'BAD_USER_INPUT', field: 'after' } }));
  });
});
