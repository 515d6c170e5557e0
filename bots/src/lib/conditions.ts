import type { MedplumClient } from '@medplum/core';
import type { Coding, Condition } from '@medplum/fhirtypes';
import type { Search } from './batch';
import { anyCodingIn, searchPages, tokenList } from './fhir';
import { ICD10, ICD10CM, SNOMED } from './vocabulary';

/** clinical-status values of a condition the person has now. */
export const ACTIVE_CLINICAL_STATUSES = ['active', 'recurrence', 'relapse'] as const;

const both = (code: string): Coding[] => [
  { system: ICD10, code },
  { system: ICD10CM, code },
];

/** Hypertension: SNOMED 38341003 (and essential hypertension 59621000), ICD-10 I10. */
export const HYPERTENSION: readonly Coding[] = [
  { system: SNOMED, code: '38341003', display: 'Hypertensive disorder' },
  { system: SNOMED, code: '59621000', display: 'Essential hypertension' },
  ...both('I10'),
];

/** Type 2 diabetes: SNOMED 44054006, ICD-10 E11 (and everything under it). */
export const TYPE_2_DIABETES: readonly Coding[] = [
  { system: SNOMED, code: '44054006', display: 'Diabetes mellitus type 2' },
  ...both('E11'),
];

/** Dyslipidemia: SNOMED 370992007 (and hyperlipidemia 55822004), ICD-10 E78 (and everything under it). */
export const DYSLIPIDEMIA: readonly Coding[] = [
  { system: SNOMED, code: '370992007', display: 'Dyslipidemia' },
  { system: SNOMED, code: '55822004', display: 'Hyperlipidemia' },
  ...both('E78'),
];

/** Sleep apnea: SNOMED 73430006 and obstructive 78275009, ICD-10 G47.3 (and everything under it). */
export const SLEEP_APNEA: readonly Coding[] = [
  { system: SNOMED, code: '73430006', display: 'Sleep apnea' },
  { system: SNOMED, code: '78275009', display: 'Obstructive sleep apnea syndrome' },
  ...both('G47.3'),
];

/** The weight-related conditions that lower the BMI threshold of weight-management programs from 30 to 27. */
export const WEIGHT_RELATED: readonly Coding[] = [...TYPE_2_DIABETES, ...HYPERTENSION, ...DYSLIPIDEMIA, ...SLEEP_APNEA];

/** The search for the active conditions of a patient (or of several: `Patient/a,Patient/b`). */
export function activeConditionsSearch(subjects: string): Search {
  return {
    resourceType: 'Condition',
    query: [
      ['subject', subjects],
      ['clinical-status', ACTIVE_CLINICAL_STATUSES.join(',')],
      ['_count', '1000'],
    ],
  };
}

/** Leaves out conditions ruled out (refuted, entered in error). */
export function activeOnly(conditions: readonly Condition[]): Condition[] {
  const ruledOut = new Set(['refuted', 'entered-in-error']);
  return conditions.filter((c) => !(c.verificationStatus?.coding ?? []).some((v) => ruledOut.has(v.code ?? '')));
}

/** The patient's conditions with an active clinical status (not refuted or entered in error). */
export async function activeConditions(medplum: MedplumClient, patient: string): Promise<Condition[]> {
  const search = activeConditionsSearch(patient);
  return activeOnly(
    await medplum.searchResources(
      'Condition',
      search.query.map(([k, v]) => [k, v])
    )
  );
}

export function hasAnyCondition(conditions: readonly Condition[], codings: readonly Coding[]): boolean {
  return conditions.some((c) => anyCodingIn(c.code, codings));
}

/**
 * Every patient with an active Condition carrying one of the codings, each once. Token search matches codes
 * exactly, so list the ICD-10 subcodes a rule should also find.
 */
export async function patientsWithCondition(medplum: MedplumClient, codings: readonly Coding[]): Promise<string[]> {
  const patients = new Set<string>();
  const query = [
    ['code', tokenList(codings)],
    ['clinical-status', ACTIVE_CLINICAL_STATUSES.join(',')],
    ['_count', '500'],
  ];
  for await (const page of searchPages(medplum, 'Condition', query)) {
    for (const condition of page) {
      const ref = condition.subject?.reference;
      if (ref?.startsWith('Patient/')) {
        patients.add(ref);
      }
    }
  }
  return [...patients];
}
