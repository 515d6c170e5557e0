import type { TypedValue } from '@medplum/core';
import { appendDateRows } from './date';
import { appendNumberRows, appendQuantityRows } from './numeric';
import { appendReferenceRows } from './reference';
import type { IndexRows } from './rows';
import { appendStringRows } from './string';
import { appendTokenRows } from './token';
import { appendUriRows } from './uri';

/** The SearchParameter types that have a lookup table of their own. */
export type ValueKind = 'token' | 'string' | 'date' | 'number' | 'quantity' | 'reference' | 'uri';

const VALUE_KINDS: ReadonlySet<string> = new Set(['token', 'string', 'date', 'number', 'quantity', 'reference', 'uri']);

export function isValueKind(type: string | undefined): type is ValueKind {
  return type !== undefined && VALUE_KINDS.has(type);
}

/** Converts the values of one search parameter (or composite component) into rows of its kind's table. */
export function appendRows(
  kind: ValueKind,
  values: readonly TypedValue[],
  sp: number,
  grp: number,
  rows: IndexRows,
  baseUrl: string
): void {
  switch (kind) {
    case 'token':
      return appendTokenRows(values, sp, grp, rows);
    case 'string':
      return appendStringRows(values, sp, grp, rows);
    case 'date':
      return appendDateRows(values, sp, grp, rows);
    case 'number':
      return appendNumberRows(values, sp, grp, rows);
    case 'quantity':
      return appendQuantityRows(values, sp, grp, rows);
    case 'reference':
      return appendReferenceRows(values, sp, grp, rows, baseUrl);
    case 'uri':
      return appendUriRows(values, sp, grp, rows);
  }
}
