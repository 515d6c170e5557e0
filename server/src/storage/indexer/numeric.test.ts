import { appendNumberRows, appendQuantityRows } from './numeric';
import { emptyIndexRows } from './rows';

describe('quantity rows', () => {
  test('Quantity and its profiles, and Money with its currency; no value, no row', () => {
    const rows = emptyIndexRows();
    appendQuantityRows(
      [
        {
          type: 'Quantity',
          value: { value: 76.5, unit: 'mm[Hg]', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' },
        },
        { type: 'Age', value: { value: 42, unit: 'yr' } },
        { type: 'Money', value: { value: 129.15, currency: 'USD' } },
        { type: 'Quantity', value: { unit: 'mg' } },
        { type: 'Range', value: { low: { value: 1 } } },
      ],
      9,
      0,
      rows
    );
    expect(rows.quantity).toEqual([
      { sp: 9, grp: 0, value: '76.5', system: 'http://unitsofmeasure.org', code: 'mm[Hg]', unit: 'mm[Hg]' },
      { sp: 9, grp: 0, value: '42', system: null, code: null, unit: 'yr' },
      { sp: 9, grp: 0, value: '129.15', system: 'urn:iso:std:iso:4217', code: 'USD', unit: null },
    ]);
  });
});

describe('number rows', () => {
  test('integers and decimals as text, decimal text kept', () => {
    const rows = emptyIndexRows();
    appendNumberRows(
      [
        { type: 'integer', value: 3 },
        { type: 'decimal', value: 0.1 },
        { type: 'decimal', value: '1.50' },
        { type: 'Range', value: { low: { value: 1 } } },
      ],
      1,
      0,
      rows
    );
    expect(rows.number.map((r) => r.value)).toEqual(['3', '0.1', '1.50']);
  });
});
