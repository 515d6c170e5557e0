import { OperationOutcomeError, badRequest, splitSearchOnComma } from '@medplum/core';

/** Splits a search value on unescaped `sep` (FHIR escaping: `\,` `\|` `\$` `\\`) and unescapes the parts. */
export function splitEscaped(value: string, sep: '|' | '$'): string[] {
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < value.length; i++) {
    const c = value[i] as string;
    if (c === '\\' && i + 1 < value.length) {
      current += c + value[i + 1];
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

export function unescape(value: string): string {
  return value.replace(/\\([\\,|$])/g, '$1');
}

/** The OR-ed alternatives of one parameter value (`a,b` = a OR b); each keeps its `\|`/`\$` escapes. */
export function alternatives(value: string): string[] {
  // splitSearchOnComma drops every backslash; re-escape the separators that matter further down.
  const out: string[] = [];
  let current = '';
  for (let i = 0; i < value.length; i++) {
    const c = value[i] as string;
    if (c === '\\' && i + 1 < value.length) {
      const next = value[i + 1] as string;
      current += next === ',' ? ',' : c + next;
      i++;
    } else if (c === ',') {
      out.push(current);
      current = '';
    } else {
      current += c;
    }
  }
  out.push(current);
  return out;
}

/** Escapes LIKE wildcards so `%` and `_` in search values match literally. */
export function likeEscape(value: string): string {
  return value.replace(/[\\%_]/g, (c) => '\\' + c);
}

export function invalid(message: string): OperationOutcomeError {
  return new OperationOutcomeError(badRequest(message));
}

export { splitSearchOnComma };
