import type { TypedValue } from '@medplum/core';
import type { Identifier, Reference } from '@medplum/fhirtypes';
import type { IndexRows } from './rows';

const RELATIVE = /^([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[A-Za-z0-9\-.]{1,64})?$/;
const ABSOLUTE_TAIL = /\/([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[A-Za-z0-9\-.]{1,64})?$/;
const CONDITIONAL = /^([A-Z][A-Za-z]+)\?/;

export interface ParsedReference {
  targetType: string | null;
  targetId: string | null;
  url: string | null;
}

/**
 * The resource type a Reference points at, as `resolve() is T` needs it: read from the reference
 * string when it says (relative, absolute `.../Type/id`, conditional `Type?...`), else from
 * Reference.type (identifier-only, `urn:uuid:` and contained references carry no type of their own).
 */
export function referenceTargetType(ref: Reference): string | undefined {
  const reference = ref.reference;
  if (typeof reference === 'string') {
    const match = RELATIVE.exec(reference) ?? CONDITIONAL.exec(reference);
    if (match) {
      return match[1];
    }
    if (reference.includes('://')) {
      const tail = ABSOLUTE_TAIL.exec(reference);
      if (tail) {
        return tail[1];
      }
    }
  }
  return ref.type;
}

/**
 * Splits a reference string into what idx_reference stores. Relative references (and absolute ones
 * on our own base URL) become type + id, with any `/_history/v` dropped because searches match the
 * resource, not a version. Other absolute URLs and `urn:` references are kept whole as `url`.
 * Contained (`#id`) and conditional (`Type?query`) references yield nothing: the first is not a
 * separate resource, the second must be resolved before the resource is stored.
 */
export function parseReference(reference: string, baseUrl: string): ParsedReference | undefined {
  const relative = RELATIVE.exec(reference);
  if (relative) {
    return { targetType: relative[1] ?? null, targetId: relative[2] ?? null, url: null };
  }
  if (reference.startsWith('#') || CONDITIONAL.test(reference)) {
    return undefined;
  }
  if (
    baseUrl &&
    reference.length > baseUrl.length &&
    reference.startsWith(baseUrl) &&
    reference[baseUrl.length] === '/'
  ) {
    const own = RELATIVE.exec(reference.slice(baseUrl.length + 1));
    if (own) {
      return { targetType: own[1] ?? null, targetId: own[2] ?? null, url: null };
    }
  }
  return reference.includes(':') ? { targetType: null, targetId: null, url: reference } : undefined;
}

/** Canonical references may pin a version (`url|1.2`); searches on the canonical match any version. */
export function stripCanonicalVersion(value: string): string {
  const bar = value.indexOf('|');
  return bar === -1 ? value : value.slice(0, bar);
}

/**
 * Reference rows for one search parameter. A Reference that carries a logical `identifier` also gets
 * a token row on the same sp, so that `param:identifier=system|value` can be answered from idx_token.
 */
export function appendReferenceRows(
  values: readonly TypedValue[],
  sp: number,
  grp: number,
  rows: IndexRows,
  baseUrl: string
): void {
  for (const { type, value } of values) {
    if (type === 'Reference') {
      appendReference(value as Reference, sp, grp, rows, baseUrl);
    } else if (type === 'canonical' || type === 'uri' || type === 'url') {
      if (typeof value === 'string' && value) {
        rows.reference.push({ sp, grp, targetType: null, targetId: null, url: stripCanonicalVersion(value) });
      }
    }
    // Anything else (a whole resource, as in Bundle.entry[0].resource) has no reference to index.
  }
}

function appendReference(ref: Reference, sp: number, grp: number, rows: IndexRows, baseUrl: string): void {
  if (typeof ref.reference === 'string') {
    const parsed = parseReference(ref.reference, baseUrl);
    if (parsed) {
      // A URL row keeps the type `resolve() is` would see (the URL's `.../Type/id`, else
      // Reference.type), so a parameter narrowed by type can read these rows (reference-rows.ts).
      const targetType = parsed.targetType ?? referenceTargetType(ref) ?? null;
      rows.reference.push({ sp, grp, targetType, targetId: parsed.targetId, url: parsed.url });
    }
  }
  appendIdentifierToken(ref, sp, grp, rows);
}

/**
 * Only the `:identifier` token rows of references, for a parameter whose reference rows are
 * another parameter's (reference-rows.ts).
 */
export function appendReferenceIdentifiers(
  values: readonly TypedValue[],
  sp: number,
  grp: number,
  rows: IndexRows
): void {
  for (const { type, value } of values) {
    if (type === 'Reference') {
      appendIdentifierToken(value as Reference, sp, grp, rows);
    }
  }
}

function appendIdentifierToken(ref: Reference, sp: number, grp: number, rows: IndexRows): void {
  const identifier: Identifier | undefined = ref.identifier;
  if (identifier?.value) {
    rows.token.push({
      sp,
      grp,
      system: identifier.system ?? null,
      code: identifier.value,
      display: null,
      ofType: null,
    });
  }
}
