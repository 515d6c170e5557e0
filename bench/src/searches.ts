/**
 * The searches a patient-facing app makes, each for random patients, one request at a time.
 * Every answer is checked against what the generated bundle holds for that patient (the page
 * size is Hale's default of 20), so a fast wrong answer counts as an error, not a result.
 */
import type { Bundle, Encounter, Observation, Patient, Resource } from '@medplum/fhirtypes';
import { HEART_RATE, type Dataset, type Expected, type PatientData } from './dataset';
import { getJson, matches, searchWarnings } from './http';
import { measure, type CheckedLatency } from './measure';
import { pick, warmedUp } from './stats';

export const MRN_SYSTEM = 'http://hale.example.org/fhir/sid/mrn';
const PAGE = 20;
const WARM_UP = 5;

export interface Target {
  readonly patient: PatientData;
  /** The server's id for the patient. */
  readonly id: string;
}

interface SearchCase {
  readonly name: string;
  /** The query, shown in the report with X for the patient id. */
  readonly label: string;
  readonly url: (t: Target) => string;
  /** How many matches the whole search has, from the generated data. */
  readonly expected: (t: Target) => number;
  /** A per-resource check (right patient, code, order…); returns the problem, if any. */
  readonly verify?: (found: Resource[], t: Target) => string | undefined;
}

export interface SearchResult extends CheckedLatency {
  readonly name: string;
  readonly label: string;
  /** Mean matches on the first page, to show the searches returned real data. */
  readonly meanMatches: number;
}

const q = encodeURIComponent;

/** FHIR string search ignores case and accents: `Patient?name=San` matches Sánchez. */
const fold = (s: string): string => s.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();

function descending(values: readonly (string | undefined)[]): boolean {
  const times = values.map((v) => (v ? Date.parse(v) : Number.NaN));
  return times.every((t, i) => !Number.isNaN(t) && (i === 0 || t <= (times[i - 1] as number)));
}

function fromExpected(key: keyof Expected): (t: Target) => number {
  return (t) => t.patient.expected[key];
}

function namePrefix(t: Target): string {
  return t.patient.family.slice(0, 3);
}

export function searchCases(data: Dataset): SearchCase[] {
  const sinceMs = Date.parse(`${data.since}T00:00:00Z`);
  const withPrefix = (prefix: string): number =>
    data.patients.filter((p) => p.nameParts.some((n) => fold(n).startsWith(fold(prefix)))).length;
  return [
    {
      name: 'Observation heart rate, last year, newest first',
      label: `Observation?patient=X&code=${HEART_RATE}&date=ge${data.since}&_sort=-date`,
      url: (t) => `Observation?patient=${t.id}&code=${q(HEART_RATE)}&date=ge${data.since}&_sort=-date`,
      expected: fromExpected('heartRateSince'),
      verify: (found) => {
        const obs = found as Observation[];
        if (
          !obs.every(
            (o) => o.code?.coding?.some((c) => c.code === '8867-4') && Date.parse(o.effectiveDateTime ?? '') >= sinceMs
          )
        ) {
          return 'a match is not a heart rate since the cut-off';
        }
        return descending(obs.map((o) => o.effectiveDateTime)) ? undefined : 'not sorted by date, newest first';
      },
    },
    {
      name: 'Observation laboratory',
      label: 'Observation?patient=X&category=laboratory',
      url: (t) => `Observation?patient=${t.id}&category=laboratory`,
      expected: fromExpected('laboratory'),
    },
    {
      name: 'Condition active',
      label: 'Condition?patient=X&clinical-status=active',
      url: (t) => `Condition?patient=${t.id}&clinical-status=active`,
      expected: fromExpected('activeConditions'),
    },
    {
      name: 'MedicationRequest active',
      label: 'MedicationRequest?patient=X&status=active',
      url: (t) => `MedicationRequest?patient=${t.id}&status=active`,
      expected: fromExpected('activeMedicationRequests'),
    },
    {
      name: 'Encounter newest first',
      label: 'Encounter?patient=X&_sort=-date',
      url: (t) => `Encounter?patient=${t.id}&_sort=-date`,
      expected: fromExpected('encounters'),
      verify: (found) =>
        descending((found as Encounter[]).map((e) => e.period?.start)) ? undefined : 'not sorted by date, newest first',
    },
    {
      name: 'Patient by MRN',
      label: `Patient?identifier=${MRN_SYSTEM}|<mrn>`,
      url: (t) => `Patient?identifier=${q(`${MRN_SYSTEM}|${t.patient.mrn}`)}`,
      expected: () => 1,
      verify: (found, t) => (found[0]?.id === t.id ? undefined : `found ${found[0]?.id}, expected ${t.id}`),
    },
    {
      name: 'Patient by name prefix',
      label: 'Patient?name=<first 3 letters of the family name>',
      url: (t) => `Patient?name=${q(namePrefix(t))}`,
      expected: (t) => withPrefix(namePrefix(t)),
      verify: (found, t) => {
        const prefix = fold(namePrefix(t));
        const names = (p: Patient): string[] =>
          (p.name ?? []).flatMap((n) => [
            n.family ?? '',
            ...(n.given ?? []),
            ...(n.prefix ?? []),
            ...(n.suffix ?? []),
            n.text ?? '',
          ]);
        return (found as Patient[]).every((p) => names(p).some((n) => fold(n).startsWith(prefix)))
          ? undefined
          : `a match has no name starting with ${prefix}`;
      },
    },
  ];
}

function checkPage(c: SearchCase, t: Target, url: string, bundle: Bundle): { problem?: string; count: number } {
  const found = matches(bundle);
  const expected = c.expected(t);
  const warnings = searchWarnings(bundle);
  if (warnings.length > 0) {
    return { problem: `GET ${url}: ${warnings.join('; ')}`, count: found.length };
  }
  if (found.length !== Math.min(PAGE, expected) || (bundle.total !== undefined && bundle.total !== expected)) {
    return {
      problem: `GET ${url}: ${found.length} matches (total ${bundle.total}), expected ${expected}`,
      count: found.length,
    };
  }
  const problem = c.verify?.(found, t);
  return { problem: problem && `GET ${url}: ${problem}`, count: found.length };
}

export async function patientAppSearches(
  fhirBase: string,
  data: Dataset,
  patientIds: readonly string[],
  patients: number
): Promise<SearchResult[]> {
  const picked = pick(data.patients, patients, data.seed + 2).map((patient) => ({
    patient,
    id: patientIds[patient.index] as string,
  }));
  const targets = warmedUp(picked, WARM_UP);
  const results: SearchResult[] = [];
  for (const c of searchCases(data)) {
    let matched = 0;
    const checked = await measure(targets, WARM_UP, async (t) => {
      const url = `${fhirBase}/${c.url(t)}`;
      const { ms, body } = await getJson<Bundle>(url);
      const { problem, count } = checkPage(c, t, url, body);
      matched += count;
      return { ms, problem };
    });
    results.push({ ...checked, name: c.name, label: c.label, meanMatches: matched / targets.length });
  }
  return results;
}
