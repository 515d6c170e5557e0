import type { TypedValue } from '@medplum/core';
import type { Address, HumanName } from '@medplum/fhirtypes';
import type { IndexRows } from './rows';

/**
 * idx_string.norm is in a btree index, whose entries PostgreSQL caps at ~2.7 kB; 512 characters of
 * up to 4 UTF-8 bytes each stay under it. Prefix searches on longer values still work on the
 * prefix, and `:exact` compares the untruncated `exact` column.
 */
const MAX_NORM_LENGTH = 512;

const NON_ASCII = /[\u0080-\uffff]/;
const COMBINING_MARKS = /\p{M}/gu;
const WHITESPACE_RUN = /\s+/g;
const NEEDS_WHITESPACE_CLEANUP = /\s\s|[^\S ]|^\s|\s$/;

/**
 * The form string search compares: lower-cased, accents stripped (NFD minus combining marks),
 * whitespace runs collapsed to one space, trimmed. The search compiler normalizes query values
 * with this same function, so `name=jose` finds "José".
 */
export function normalizeSearchString(value: string): string {
  let result = value.toLowerCase();
  if (NON_ASCII.test(result)) {
    // Lower-casing first: some capitals lower-case to a letter plus a combining mark (İ → i̇).
    result = result.normalize('NFD').replace(COMBINING_MARKS, '');
  }
  if (NEEDS_WHITESPACE_CLEANUP.test(result)) {
    result = result.replace(WHITESPACE_RUN, ' ').trim();
  }
  return result;
}

/**
 * String rows. A HumanName or Address matches on any of its parts (FHIR R4 search, "string"),
 * so each part is a row of its own and a prefix search on any part finds the resource.
 */
export function appendStringRows(values: readonly TypedValue[], sp: number, grp: number, rows: IndexRows): void {
  for (const { type, value } of values) {
    if (type === 'HumanName') {
      appendHumanName(value as HumanName, sp, grp, rows);
    } else if (type === 'Address') {
      appendAddress(value as Address, sp, grp, rows);
    } else if (typeof value === 'string') {
      appendString(value, sp, grp, rows);
    }
  }
}

function appendHumanName(name: HumanName, sp: number, grp: number, rows: IndexRows): void {
  appendString(name.text, sp, grp, rows);
  appendString(name.family, sp, grp, rows);
  appendStrings(name.given, sp, grp, rows);
  appendStrings(name.prefix, sp, grp, rows);
  appendStrings(name.suffix, sp, grp, rows);
}

function appendAddress(address: Address, sp: number, grp: number, rows: IndexRows): void {
  appendStrings(address.line, sp, grp, rows);
  appendString(address.city, sp, grp, rows);
  appendString(address.district, sp, grp, rows);
  appendString(address.state, sp, grp, rows);
  appendString(address.postalCode, sp, grp, rows);
  appendString(address.country, sp, grp, rows);
  appendString(address.text, sp, grp, rows);
}

function appendStrings(values: readonly string[] | undefined, sp: number, grp: number, rows: IndexRows): void {
  if (values) {
    for (const value of values) {
      appendString(value, sp, grp, rows);
    }
  }
}

function appendString(value: unknown, sp: number, grp: number, rows: IndexRows): void {
  if (typeof value !== 'string') {
    return;
  }
  const norm = normalizeSearchString(value);
  if (norm) {
    rows.string.push({ sp, grp, norm: truncate(norm), exact: value });
  }
}

function truncate(norm: string): string {
  if (norm.length <= MAX_NORM_LENGTH) {
    return norm;
  }
  // Never split a surrogate pair: a lone surrogate is not valid UTF-8.
  const lastCode = norm.charCodeAt(MAX_NORM_LENGTH - 1);
  return norm.slice(0, lastCode >= 0xd800 && lastCode <= 0xdbff ? MAX_NORM_LENGTH - 1 : MAX_NORM_LENGTH);
}
