import { OperationOutcomeError, badRequest } from '@medplum/core';
import type { Sql } from '../../db/sql';
import { or, sql } from '../../db/sql';

/**
 * Splits on an unescaped separator (FHIR escaping: `\,` `\|` `\$` `\\`). Escapes stay in the
 * parts, because a later stage splits them again, except an escaped separator when
 * `dropEscape` is set.
 */
function splitOn(value: string, sep: string, dropEscape: boolean): string[] {
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < value.length; i++) {
    const c = value[i] as string;
    if (c === '\\' && i + 1 < value.length) {
      const next = value[i + 1] as string;
      current += dropEscape && next === sep ? next : c + next;
      i++;
    } else if (c === sep) {
      parts.push(current);
      current = '';
    } else {
      current += c;
    }
  }
  parts.push(current);
  return parts;
}

/** Splits a token/quantity/composite value on unescaped `|` or `$`; unescape the parts after. */
export function splitEscaped(value: string, sep: '|' | '$'): string[] {
  return splitOn(value, sep, false);
}

export function unescape(value: string): string {
  return value.replace(/\\([\\,|$])/g, '$1');
}

/** The OR-ed alternatives of one parameter value (`a,b` = a OR b); each keeps its `\|`/`\$` escapes. */
export function alternatives(value: string): string[] {
  return splitOn(value, ',', true);
}

/**
 * Whether a search value could match anything. U+0000 is never in stored text (bodies holding it are
 * refused, fhir/json-body.ts) and PostgreSQL text cannot carry it: PostgreSQL refuses such a parameter
 * and the embedded PGlite drops the connection. So a value holding it matches nothing, and is never sent.
 */
export function canMatch(value: string): boolean {
  return !value.includes('\0');
}

/** The OR of one parameter's alternatives; one that cannot match is FALSE (and its `:not`, TRUE). */
export function anyOf(values: readonly string[], match: (value: string, index: number) => Sql): Sql {
  return or(values.map((v, i) => (canMatch(v) ? match(v, i) : sql`FALSE`)));
}

/** Escapes LIKE wildcards so `%` and `_` in search values match literally. */
export function likeEscape(value: string): string {
  return value.replace(/[\\%_]/g, (c) => '\\' + c);
}

export function invalid(message: string): OperationOutcomeError {
  return new OperationOutcomeError(badRequest(message));
}
