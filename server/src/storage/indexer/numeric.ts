import type { TypedValue } from '@medplum/core';
import type { Money, Quantity } from '@medplum/fhirtypes';
import type { IndexRows } from './rows';

/** Money is searched as a quantity whose unit system is ISO 4217 and whose code is the currency. */
const CURRENCY_SYSTEM = 'urn:iso:std:iso:4217';

/** Quantity and its profiles (which `ofType(Quantity)` selects too). */
export const QUANTITY_TYPES: ReadonlySet<string> = new Set([
  'Quantity',
  'Age',
  'Count',
  'Distance',
  'Duration',
  'SimpleQuantity',
  'MoneyQuantity',
]);

/**
 * Decimals are written as text for the numeric column. JSON.parse has already made them doubles;
 * String() gives the shortest text that reads back as the same double, which is the original text
 * whenever that had no superfluous digits (trailing zeros are lost, e.g. 1.50 → '1.5').
 */
function decimalText(value: unknown): string | undefined {
  if (typeof value === 'number') {
    return Number.isFinite(value) ? String(value) : undefined;
  }
  // Parsers that keep decimals as text (to preserve precision) hand us strings.
  return typeof value === 'string' && value !== '' && Number.isFinite(Number(value)) ? value : undefined;
}

/** Number rows: integer, decimal, positiveInt, unsignedInt. Ranges (RiskAssessment.prediction.probability) are skipped. */
export function appendNumberRows(values: readonly TypedValue[], sp: number, grp: number, rows: IndexRows): void {
  for (const { value } of values) {
    const text = decimalText(value);
    if (text !== undefined) {
      rows.number.push({ sp, grp, value: text });
    }
  }
}

/** Quantity rows for Quantity and its profiles, and Money. Range and SampledData have no single value and are skipped. */
export function appendQuantityRows(values: readonly TypedValue[], sp: number, grp: number, rows: IndexRows): void {
  for (const { type, value } of values) {
    if (QUANTITY_TYPES.has(type)) {
      const quantity = value as Quantity;
      const text = decimalText(quantity.value);
      if (text !== undefined) {
        rows.quantity.push({
          sp,
          grp,
          value: text,
          system: quantity.system ?? null,
          code: quantity.code ?? null,
          unit: quantity.unit ?? null,
        });
      }
    } else if (type === 'Money') {
      const money = value as Money;
      const text = decimalText(money.value);
      if (text !== undefined) {
        const currency = money.currency ?? null;
        rows.quantity.push({ sp, grp, value: text, system: currency && CURRENCY_SYSTEM, code: currency, unit: null });
      }
    }
  }
}
