import { OperationOutcomeError, badRequest } from '@medplum/core';
import type { Parameters } from '@medplum/fhirtypes';
import { isInPatientCompartment } from '../access/compartment-types';
import { isResourceType } from '../fhir/definitions';
import { patientIdOf } from '../audit/involved';

export type ExportLevel = 'system' | 'patient' | 'group';

/** Prefer: handling=… — strict refuses unknown parameters, lenient accepts unsupported values with a warning. */
export type Handling = 'strict' | 'lenient' | 'default';

export type AssociatedData = 'LatestProvenanceResources' | 'RelevantProvenanceResources';

/** The kick-off's parameters as the worker runs them (stored with the job as JSON). */
export interface ExportParams {
  since?: string;
  until?: string;
  /** The types asked for with `_type`, in order; undefined: every type the caller may read. */
  types?: string[];
  /** `_typeFilter` queries as `Type?query`, each checked by the search compiler at kick-off. */
  typeFilters: string[];
  elements?: string[];
  /** Patient ids of the `patient` parameter. */
  patients?: string[];
  associated: AssociatedData[];
  /** Prefer: handling=lenient: parts of a `_typeFilter` the compiler does not know are skipped. */
  lenient: boolean;
}

export const NDJSON = 'application/fhir+ndjson';
const OUTPUT_FORMATS = new Set([NDJSON, 'application/ndjson', 'ndjson']);
const ASSOCIATED = new Set<string>(['LatestProvenanceResources', 'RelevantProvenanceResources']);
/** Parameters of the Bulk Data IG (2.0, and _until/organizeOutputBy of its next version) plus FHIR's own. */
const KNOWN = new Set([
  '_outputFormat',
  '_since',
  '_until',
  '_type',
  '_typeFilter',
  '_elements',
  'patient',
  'includeAssociatedData',
  'organizeOutputBy',
  '_format',
  '_pretty',
]);
const INSTANT = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/;
const ELEMENT = /^(?:([A-Z][A-Za-z]+)\.)?([a-z][A-Za-z0-9]*(?:\[x\])?)$/;

/** Reads `respond-async` and `handling` from the Prefer header (RFC 7240; several headers are joined by commas). */
export function parsePreferAsync(header: string | string[] | undefined): { async: boolean; handling: Handling } {
  const parts = [header ?? []]
    .flat()
    .join(',')
    .split(/[,;]/)
    .map((p) => p.trim().toLowerCase());
  const handling = parts.find((p) => p.startsWith('handling='))?.slice('handling='.length);
  return {
    async: parts.includes('respond-async'),
    handling: handling === 'strict' || handling === 'lenient' ? handling : 'default',
  };
}

/** The raw values of each parameter, from the query and (POST) a Parameters body; repeated values join as one list. */
export function collectRaw(query: Record<string, string | string[] | undefined>, body: unknown): Map<string, string[]> {
  const raw = new Map<string, string[]>();
  const add = (name: string, value: string): void => {
    raw.set(name, [...(raw.get(name) ?? []), value]);
  };
  for (const [name, value] of Object.entries(query)) {
    for (const v of [value ?? []].flat()) {
      add(name, v);
    }
  }
  if (body === undefined) {
    return raw;
  }
  if (typeof body !== 'object' || body === null || (body as Parameters).resourceType !== 'Parameters') {
    throw new OperationOutcomeError(badRequest('A POSTed $export takes a Parameters resource'));
  }
  for (const part of (body as Parameters).parameter ?? []) {
    const value =
      part.valueReference?.reference ??
      part.valueString ??
      part.valueCode ??
      part.valueInstant ??
      part.valueDateTime ??
      part.valueUri;
    if (!part.name || typeof value !== 'string') {
      throw new OperationOutcomeError(badRequest(`Parameter '${part.name ?? ''}' needs a value`));
    }
    add(part.name, value);
  }
  return raw;
}

/**
 * Checks the kick-off's parameters. A malformed value is always a 400; an unsupported one (an unknown
 * type, a nested `_elements` path, an unknown `includeAssociatedData`) is a 400 unless Prefer:
 * handling=lenient, when it is dropped with a warning; an unknown parameter is a 400 under
 * handling=strict and otherwise ignored with a warning. Warnings go to the manifest's error file.
 */
export function parseExportParams(
  raw: Map<string, string[]>,
  level: ExportLevel,
  handling: Handling,
  baseUrl: string
): { params: ExportParams; warnings: string[] } {
  const warnings: string[] = [];
  const unsupported = (text: string): void => {
    if (handling !== 'lenient') {
      throw new OperationOutcomeError(badRequest(text));
    }
    warnings.push(`${text} (ignored: Prefer: handling=lenient)`);
  };
  for (const name of raw.keys()) {
    if (!KNOWN.has(name)) {
      if (handling === 'strict') {
        throw new OperationOutcomeError(badRequest(`Unknown $export parameter '${name}'`));
      }
      warnings.push(`Unknown $export parameter '${name}' was ignored`);
    }
  }
  const list = (name: string): string[] | undefined => {
    const values = raw.get(name);
    return values ? values.flatMap((v) => v.split(',')).map((v) => v.trim()) : undefined;
  };
  const format = list('_outputFormat');
  if (format && !format.every((f) => OUTPUT_FORMATS.has(f))) {
    throw new OperationOutcomeError(
      badRequest(`Unsupported _outputFormat '${format.join(',')}': Hale writes application/fhir+ndjson`)
    );
  }
  const params: ExportParams = {
    since: instant(raw, '_since'),
    until: instant(raw, '_until'),
    typeFilters: [],
    associated: [],
    lenient: handling === 'lenient',
  };
  const types = list('_type')?.filter(Boolean);
  if (types) {
    params.types = [...new Set(types)].filter((t) => typeAllowed(t, level, unsupported));
    if (params.types.length === 0) {
      throw new OperationOutcomeError(badRequest('_type names no resource type this export can return'));
    }
  }
  for (const query of (raw.get('_typeFilter') ?? []).flatMap(splitTypeFilters)) {
    const type = query.split('?')[0] ?? '';
    if (!query.includes('?') || !isResourceType(type)) {
      unsupported(`_typeFilter '${query}' is not of the form [type]?[search parameters]`);
    } else if (params.types && !params.types.includes(type)) {
      warnings.push(`_typeFilter '${query}' was ignored: ${type} is not in _type`);
    } else if (level !== 'system' && (!isInPatientCompartment(type) || type === 'Binary')) {
      warnings.push(`_typeFilter '${query}' was ignored: ${type} is not exported at Patient or Group level`);
    } else {
      params.typeFilters.push(query);
    }
  }
  const elements = list('_elements')?.filter(Boolean);
  if (elements) {
    params.elements = elements.filter((e) => {
      const m = ELEMENT.exec(e);
      if (!m || (m[1] && !isResourceType(m[1]))) {
        unsupported(`_elements '${e}' is not [type.]element (only top-level elements are allowed)`);
        return false;
      }
      return true;
    });
  }
  const patients = list('patient');
  if (patients) {
    if (level === 'system') {
      unsupported("The 'patient' parameter is for Patient- and Group-level exports");
    } else {
      params.patients = [...new Set(patients.map((p) => patientReference(p, baseUrl)))];
    }
  }
  for (const value of list('includeAssociatedData') ?? []) {
    if (ASSOCIATED.has(value)) {
      params.associated.push(value as AssociatedData);
    } else {
      unsupported(
        `includeAssociatedData '${value}' is not supported (LatestProvenanceResources, RelevantProvenanceResources)`
      );
    }
  }
  if (raw.has('organizeOutputBy')) {
    unsupported('organizeOutputBy is not supported: output files are organized by resource type');
  }
  return { params, warnings };
}

function instant(raw: Map<string, string[]>, name: string): string | undefined {
  const values = raw.get(name);
  if (!values) {
    return undefined;
  }
  const value = values[values.length - 1]?.trim() ?? '';
  if (values.length > 1 || !INSTANT.test(value) || Number.isNaN(Date.parse(value))) {
    throw new OperationOutcomeError(badRequest(`${name} must be one FHIR instant, e.g. 2024-01-31T00:00:00Z`));
  }
  return new Date(value).toISOString();
}

function typeAllowed(type: string, level: ExportLevel, unsupported: (text: string) => void): boolean {
  if (!isResourceType(type)) {
    unsupported(`_type '${type}' is not a FHIR R4 resource type`);
    return false;
  }
  if (level !== 'system' && (!isInPatientCompartment(type) || type === 'Binary')) {
    unsupported(
      type === 'Binary'
        ? 'Binary is not exported at Patient or Group level: its DocumentReference links to it'
        : `${type} is not in the Patient compartment, so a Patient- or Group-level export does not return it`
    );
    return false;
  }
  return true;
}

/**
 * `_typeFilter` values are comma-separated queries whose own commas (OR within a parameter) stay:
 * a comma starts a new query only where a resource type and `?` follow it.
 */
function splitTypeFilters(value: string): string[] {
  return value
    .split(/,(?=[A-Z][A-Za-z]+\?)/)
    .map((q) => q.trim())
    .filter(Boolean);
}

function patientReference(value: string, baseUrl: string): string {
  const id = patientIdOf(value, baseUrl) ?? (/^[A-Za-z0-9\-.]{1,64}$/.test(value) ? value : undefined);
  if (!id) {
    throw new OperationOutcomeError(badRequest(`patient '${value}' is not a reference to a Patient`));
  }
  return id;
}
