import { appendDateRows, dateRange } from './date';
import { emptyIndexRows } from './rows';

describe('dateRange', () => {
  test.each([
    ['2024', '2024-01-01T00:00:00.000Z', '2024-12-31T23:59:59.999Z'],
    ['2024-02', '2024-02-01T00:00:00.000Z', '2024-02-29T23:59:59.999Z'],
    ['2023-02', '2023-02-01T00:00:00.000Z', '2023-02-28T23:59:59.999Z'],
    ['2024-07-15', '2024-07-15T00:00:00.000Z', '2024-07-15T23:59:59.999Z'],
    ['2024-07-15T10:00:00+02:00', '2024-07-15T08:00:00.000Z', '2024-07-15T08:00:00.999Z'],
    ['2024-07-15T01:30:00-05:30', '2024-07-15T07:00:00.000Z', '2024-07-15T07:00:00.999Z'],
    ['2024-01-01T00:30:00+01:00', '2023-12-31T23:30:00.000Z', '2023-12-31T23:30:00.999Z'],
    ['2024-07-15T10:00:00', '2024-07-15T10:00:00.000Z', '2024-07-15T10:00:00.999Z'],
    ['2024-07-15T10:00', '2024-07-15T10:00:00.000Z', '2024-07-15T10:00:59.999Z'],
    ['2024-07-15T10:00:00.123Z', '2024-07-15T10:00:00.123Z', '2024-07-15T10:00:00.123Z'],
    ['2024-07-15T10:00:00.1234567Z', '2024-07-15T10:00:00.123Z', '2024-07-15T10:00:00.123Z'],
    ['2024-07-15T10:00:00.5Z', '2024-07-15T10:00:00.500Z', '2024-07-15T10:00:00.599Z'],
    ['0050-03-01T00:00:00Z', '0050-03-01T00:00:00.000Z', '0050-03-01T00:00:00.999Z'],
  ])('%s', (value, low, high) => {
    expect(dateRange(value)).toEqual({ low, high });
  });

  test('agrees with Date on instants across the calendar', () => {
    let seed = 12345;
    const next = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const two = (n: number): string => String(n).padStart(2, '0');
    for (let i = 0; i < 5000; i++) {
      const year = String(1 + next(9998)).padStart(4, '0');
      const day = two(1 + next(28));
      const zone = next(3) === 0 ? 'Z' : `${next(2) ? '+' : '-'}${two(next(14))}:${two(next(4) * 15)}`;
      const value = `${year}-${two(1 + next(12))}-${day}T${two(next(24))}:${two(next(60))}:${two(next(60))}.${next(1000)}${zone}`;
      const expected = new Date(value).toISOString();
      if (expected.startsWith('0000') || expected.startsWith('+')) {
        continue;
      }
      expect(dateRange(value).low).toBe(expected);
    }
  });

  test.each(['2024-13', '2023-02-29', '2023-04-31', '2024-07-15T25:00:00Z', 'yesterday', '2024-7-1', ''])(
    'rejects %j',
    (value) => {
      expect(() => dateRange(value)).toThrow('Invalid date');
    }
  );
});

describe('date rows', () => {
  test('Periods, open-ended ones included, Timings and date strings', () => {
    const rows = emptyIndexRows();
    appendDateRows(
      [
        { type: 'Period', value: { start: '2024-01-01', end: '2024-01-31T12:00:00Z' } },
        { type: 'Period', value: { start: '2024-03' } },
        { type: 'Period', value: { end: '2025' } },
        { type: 'Period', value: {} },
        { type: 'Timing', value: { event: ['2024-05-05'], repeat: { boundsPeriod: { start: '2024-06-01' } } } },
        { type: 'dateTime', value: '2019-02-17T08:51:53-05:00' },
        { type: 'instant', value: '2019-02-17T08:51:53.961+00:00' },
        { type: 'string', value: 'last spring' },
        { type: 'Age', value: { value: 40, unit: 'a' } },
      ],
      2,
      0,
      rows
    );
    expect(rows.date.map((r) => [r.low, r.high])).toEqual([
      ['2024-01-01T00:00:00.000Z', '2024-01-31T12:00:00.999Z'],
      ['2024-03-01T00:00:00.000Z', 'infinity'],
      ['-infinity', '2025-12-31T23:59:59.999Z'],
      ['2024-05-05T00:00:00.000Z', '2024-05-05T23:59:59.999Z'],
      ['2024-06-01T00:00:00.000Z', 'infinity'],
      ['2019-02-17T13:51:53.000Z', '2019-02-17T13:51:53.999Z'],
      ['2019-02-17T08:51:53.961Z', '2019-02-17T08:51:53.961Z'],
    ]);
  });
});
