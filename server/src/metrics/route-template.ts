import { isResourceType } from '@medplum/core';

/**
 * What a metric may name a request by: a route template, never the path itself. Ids, version ids, emails in
 * verification links and anything else a path carries stay out of labels (they can be PHI, and every distinct
 * value would be a new time series). Resource types and operation names are kept only from closed sets, so a
 * hostile client cannot grow the label space: an unknown type is `:type`, an unknown operation `$:operation`.
 */
export interface RouteVocabulary {
  /** Operation names (without `$`) the server declares (its CapabilityStatement). */
  operations: ReadonlySet<string>;
  /** Paths outside the FHIR base that express routes exactly (`/auth/register`, `/livez` …). */
  literalPaths: ReadonlySet<string>;
  /** First path segments outside the FHIR base whose sub-paths are grouped (`/oauth2/*`). */
  prefixes: ReadonlySet<string>;
}

const FHIR_BASE = '/fhir/R4';

export function routeTemplate(path: string, status: number, vocabulary: RouteVocabulary): string {
  if (path === FHIR_BASE || path.startsWith(`${FHIR_BASE}/`)) {
    const segments = path.slice(FHIR_BASE.length).split('/').filter(Boolean);
    return `${FHIR_BASE}${fhirTemplate(segments, status, vocabulary)}`;
  }
  if (vocabulary.literalPaths.has(path)) {
    return path;
  }
  const first = path.split('/')[1] ?? '';
  return vocabulary.prefixes.has(first) ? `/${first}/*` : 'other';
}

function fhirTemplate(segments: string[], status: number, vocabulary: RouteVocabulary): string {
  const [first, second, third, fourth] = segments;
  if (first === undefined) {
    return '';
  }
  if (first === 'metadata' || first === '_history') {
    return segments.length === 1 ? `/${first}` : '/:other';
  }
  if (first === 'bulkdata') {
    return '/bulkdata/*';
  }
  if (first.startsWith('$')) {
    return segments.length === 1 ? `/${operation(first, status, vocabulary)}` : '/:other';
  }
  const type = isResourceType(first) ? first : ':type';
  if (second === undefined) {
    return `/${type}`;
  }
  if (second === '_history' || second === '_search') {
    return segments.length === 2 ? `/${type}/${second}` : `/${type}/:other`;
  }
  if (second.startsWith('$')) {
    return segments.length === 2 ? `/${type}/${operation(second, status, vocabulary)}` : `/${type}/:other`;
  }
  return `/${type}/:id${instanceTail(third, fourth, segments.length, status, vocabulary)}`;
}

function instanceTail(
  third: string | undefined,
  fourth: string | undefined,
  length: number,
  status: number,
  vocabulary: RouteVocabulary
): string {
  if (third === undefined) {
    return '';
  }
  if (third === '_history') {
    return length === 3 ? '/_history' : length === 4 && fourth ? '/_history/:vid' : '/:other';
  }
  if (length > 3) {
    return '/:other';
  }
  if (third.startsWith('$')) {
    return `/${operation(third, status, vocabulary)}`;
  }
  // A compartment search (Patient/123/Observation).
  return isResourceType(third) ? `/${third}` : '/:other';
}

/**
 * A declared operation keeps its name; so does one the router answered with success (it exists, then, even when
 * the CapabilityStatement does not list it: the set of such names is the router's, not the client's).
 */
function operation(segment: string, status: number, vocabulary: RouteVocabulary): string {
  const name = segment.slice(1);
  const known = vocabulary.operations.has(name) || (status < 400 && /^[A-Za-z][A-Za-z0-9-]{0,63}$/.test(name));
  return known ? segment : '$:operation';
}
