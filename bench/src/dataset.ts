/**
 * The workload's data: the seed workspace's patient bundles, serialised once before any timing,
 * plus what each patient-app search should find for each patient (computed from the bundle itself,
 * so a wrong answer from the server is caught rather than timed).
 */
import type { Bundle, Resource } from '@medplum/fhirtypes';
import {
  DEFAULT_REFERENCE_DATE,
  generateDirectoryBundle,
  generatePatientBundles,
  mrnOf,
  type DirectoryMode,
} from '../../seed/src';

/** Resources outside any patient compartment: the shared provider directory. */
const DIRECTORY_TYPES = new Set(['Organization', 'Practitioner']);

export const HEART_RATE = 'http://loinc.org|8867-4';

export interface Expected {
  /** Observations coded LOINC 8867-4 effective on or after `since`. */
  readonly heartRateSince: number;
  readonly laboratory: number;
  readonly activeConditions: number;
  readonly activeMedicationRequests: number;
  readonly encounters: number;
  /** Resources in the patient's compartment, the Patient included: what $everything should return. */
  readonly compartment: number;
}

export interface PatientData {
  readonly index: number;
  readonly mrn: string;
  readonly family: string;
  /** Family and given names, which `Patient?name=` matches by prefix. */
  readonly nameParts: readonly string[];
  /** The Patient entry's urn:uuid fullUrl, which the floor table's references keep. */
  readonly fullUrl: string;
  /** The transaction Bundle as sent to the server. */
  readonly json: string;
  readonly entries: number;
  readonly expected: Expected;
}

/** One row for the raw floor: the bundle entry's resource, keyed by the uuid of its fullUrl. */
export interface FloorRow {
  readonly id: string;
  readonly type: string;
  readonly content: string;
}

export interface Dataset {
  readonly seed: number;
  /** 'inline': providers are conditional creates in every bundle; 'reference': loaded first, referred to conditionally. */
  readonly directory: DirectoryMode;
  /** In 'reference' mode, the directory batch to load before the patients. */
  readonly directoryJson?: string;
  readonly referenceDate: string;
  /** One year before the reference date: the lower bound of the heart-rate search. */
  readonly since: string;
  readonly patients: PatientData[];
  readonly floorRows: FloorRow[];
  readonly resources: number;
  readonly bytes: number;
  readonly generateMs: number;
}

function hasCode(concept: unknown, code: string): boolean {
  const codings = (concept as { coding?: { code?: string }[] } | undefined)?.coding ?? [];
  return codings.some((c) => c.code === code);
}

function expectations(resources: readonly Resource[], sinceMs: number): Expected {
  let heartRateSince = 0;
  let laboratory = 0;
  let activeConditions = 0;
  let activeMedicationRequests = 0;
  let encounters = 0;
  for (const r of resources) {
    if (r.resourceType === 'Observation') {
      const effective = r.effectiveDateTime ? Date.parse(r.effectiveDateTime) : Number.NaN;
      heartRateSince += hasCode(r.code, '8867-4') && effective >= sinceMs ? 1 : 0;
      laboratory += (r.category ?? []).some((c) => hasCode(c, 'laboratory')) ? 1 : 0;
    } else if (r.resourceType === 'Condition') {
      activeConditions += hasCode(r.clinicalStatus, 'active') ? 1 : 0;
    } else if (r.resourceType === 'MedicationRequest') {
      activeMedicationRequests += r.status === 'active' ? 1 : 0;
    } else if (r.resourceType === 'Encounter') {
      encounters++;
    }
  }
  const compartment = resources.filter((r) => !DIRECTORY_TYPES.has(r.resourceType)).length;
  return { heartRateSince, laboratory, activeConditions, activeMedicationRequests, encounters, compartment };
}

function oneYearBefore(date: string): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCFullYear(d.getUTCFullYear() - 1);
  return d.toISOString().slice(0, 10);
}

function uuidOf(fullUrl: string | undefined): string {
  const m = /^urn:uuid:([0-9a-f-]{36})$/.exec(fullUrl ?? '');
  if (!m?.[1]) {
    throw new Error(`Expected a urn:uuid fullUrl, got ${fullUrl}`);
  }
  return m[1];
}

function patientOf(bundle: Bundle): { fullUrl: string; family: string; nameParts: string[] } {
  const entry = bundle.entry?.find((e) => e.resource?.resourceType === 'Patient');
  const names = entry?.resource?.resourceType === 'Patient' ? (entry.resource.name ?? []) : [];
  const family = names[0]?.family;
  if (!entry?.fullUrl || !family) {
    throw new Error('A generated bundle has no Patient with a family name');
  }
  const nameParts = names.flatMap((n) => [
    n.family,
    ...(n.given ?? []),
    ...(n.prefix ?? []),
    ...(n.suffix ?? []),
    n.text,
  ]);
  return { fullUrl: entry.fullUrl, family, nameParts: nameParts.filter((p): p is string => Boolean(p)) };
}

function floorRowsOf(bundle: Bundle): FloorRow[] {
  return (bundle.entry ?? []).map((e) => {
    const resource = e.resource as Resource;
    return { id: uuidOf(e.fullUrl), type: resource.resourceType, content: JSON.stringify(resource) };
  });
}

export function buildDataset(seed: number, patients: number, directory: DirectoryMode): Dataset {
  const start = performance.now();
  const referenceDate = DEFAULT_REFERENCE_DATE;
  const since = oneYearBefore(referenceDate);
  const sinceMs = Date.parse(`${since}T00:00:00Z`);
  const out: PatientData[] = [];
  const directoryBundle = directory === 'reference' ? generateDirectoryBundle() : undefined;
  const floorRows: FloorRow[] = directoryBundle ? floorRowsOf(directoryBundle) : [];
  let bytes = 0;
  let index = 0;
  for (const bundle of generatePatientBundles({ seed, patients, referenceDate, directory })) {
    const entries = bundle.entry ?? [];
    const resources = entries.map((e) => e.resource as Resource);
    const patient = patientOf(bundle);
    const json = JSON.stringify(bundle);
    bytes += json.length;
    floorRows.push(...floorRowsOf(bundle));
    out.push({
      index,
      mrn: mrnOf(seed, index),
      family: patient.family,
      nameParts: patient.nameParts,
      fullUrl: patient.fullUrl,
      json,
      entries: entries.length,
      expected: expectations(resources, sinceMs),
    });
    index++;
  }
  return {
    seed,
    directory,
    directoryJson: directoryBundle && JSON.stringify(directoryBundle),
    referenceDate,
    since,
    patients: out,
    floorRows,
    resources: floorRows.length,
    bytes,
    generateMs: performance.now() - start,
  };
}
