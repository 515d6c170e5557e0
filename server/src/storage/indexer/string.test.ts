import { emptyIndexRows } from './rows';
import { appendStringRows, normalizeSearchString } from './string';

describe('normalizeSearchString', () => {
  test.each([
    ['José', 'jose'],
    ['MÜLLER', 'muller'],
    ['  Anne   Marie\tSmith \n', 'anne marie smith'],
    ['Çağ Øst', 'cag øst'],
    ['İstanbul', 'istanbul'],
    ['plain', 'plain'],
  ])('%j → %j', (input, expected) => {
    expect(normalizeSearchString(input)).toBe(expected);
  });
});

describe('string rows', () => {
  test('a HumanName gives a row per part', () => {
    const rows = emptyIndexRows();
    appendStringRows(
      [
        {
          type: 'HumanName',
          value: { text: 'Dr. José Díaz', family: 'Díaz', given: ['José', 'María'], prefix: ['Dr.'] },
        },
      ],
      5,
      0,
      rows
    );
    expect(rows.string).toEqual([
      { sp: 5, grp: 0, norm: 'dr. jose diaz', exact: 'Dr. José Díaz' },
      { sp: 5, grp: 0, norm: 'diaz', exact: 'Díaz' },
      { sp: 5, grp: 0, norm: 'jose', exact: 'José' },
      { sp: 5, grp: 0, norm: 'maria', exact: 'María' },
      { sp: 5, grp: 0, norm: 'dr.', exact: 'Dr.' },
    ]);
  });

  test('an Address gives a row per part', () => {
    const rows = emptyIndexRows();
    const address = { line: ['1 Main St', 'Apt 2'], city: 'Boston', state: 'MA', postalCode: '02101', country: 'US' };
    appendStringRows([{ type: 'Address', value: address }], 1, 0, rows);
    expect(rows.string.map((r) => r.norm)).toEqual(['1 main st', 'apt 2', 'boston', 'ma', '02101', 'us']);
  });

  test('strings become one row, blank ones none, very long ones a truncated norm', () => {
    const rows = emptyIndexRows();
    const long = 'x'.repeat(2000);
    appendStringRows(
      [
        { type: 'string', value: 'Hello' },
        { type: 'markdown', value: '  ' },
        { type: 'string', value: long },
      ],
      1,
      0,
      rows
    );
    expect(rows.string).toEqual([
      { sp: 1, grp: 0, norm: 'hello', exact: 'Hello' },
      { sp: 1, grp: 0, norm: 'x'.repeat(512), exact: long },
    ]);
  });
});
