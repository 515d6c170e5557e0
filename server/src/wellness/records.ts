import type { CodeableConcept, Resource } from '@medplum/fhirtypes';
import { HALE_FHIR } from '../access/consent/vocabulary';
import { LOINC } from './measurements';

/**
 * Hale's care-record profiles beyond the measurements (fhir-profiles/src/records.ts): which resources each is
 * about, so a patient app's food log, activity, symptom, insight, lab result, lab report, goal or care plan is
 * held to its profile (REQUIRE_PROFILES) without claiming it. ADR 0008 (food log) and 0009 (insights).
 */

export const HALE_LOG_CODE = `${HALE_FHIR}/CodeSystem/log-code`;
export const MEAL_TYPE_SYSTEM = `${HALE_FHIR}/CodeSystem/meal-type`;
export const OBSERVATION_CATEGORY = 'http://terminology.hl7.org/CodeSystem/observation-category';
export const DIAGNOSTIC_SERVICE_SECTION = 'http://terminology.hl7.org/CodeSystem/v2-0074';
export const CARE_PLAN_ADHERENCE_EXTENSION = `${HALE_FHIR}/StructureDefinition/care-plan-adherence`;

const profile = (key: string): string => `${HALE_FHIR}/StructureDefinition/hale-${key}`;

export const RECORD_PROFILES = {
  foodLog: profile('food-log'),
  activityLog: profile('activity-log'),
  symptomLog: profile('symptom-log'),
  insight: profile('insight'),
  labResult: profile('lab-result'),
  labReport: profile('lab-report'),
  goal: profile('goal'),
  carePlan: profile('care-plan'),
} as const;

/** Every StructureDefinition the records rely on (fhir-profiles publishes them). */
export const RECORD_STRUCTURE_DEFINITIONS: readonly string[] = [
  ...Object.values(RECORD_PROFILES),
  CARE_PLAN_ADHERENCE_EXTENSION,
];

/** The Observation code (system|code) that makes an Observation a food log, an activity, a symptom or an insight. */
const OBSERVATION_PROFILE_BY_CODE: ReadonlyMap<string, string> = new Map([
  [`${LOINC}|9052-2`, RECORD_PROFILES.foodLog],
  [`${LOINC}|73985-4`, RECORD_PROFILES.activityLog],
  [`${LOINC}|75325-1`, RECORD_PROFILES.symptomLog],
  [`${HALE_LOG_CODE}|insight`, RECORD_PROFILES.insight],
]);

/**
 * The record profiles a resource is, by what it says it is: an Observation by its code (and, for a lab result,
 * its category laboratory — a lab's codes are all of LOINC), a DiagnosticReport by its category LAB, every Goal
 * and CarePlan. (A measurement with category laboratory, blood glucose, is held to its measurement profile
 * instead: required-profiles.ts.)
 */
export function recordProfilesOf(resource: Resource): string[] {
  switch (resource.resourceType) {
    case 'Observation': {
      const byCode = codings(resource.code).flatMap(
        (c) => OBSERVATION_PROFILE_BY_CODE.get(`${c.system}|${c.code}`) ?? []
      );
      const lab = hasCategory(resource.category, OBSERVATION_CATEGORY, 'laboratory') ? [RECORD_PROFILES.labResult] : [];
      return [...new Set([...byCode, ...lab])];
    }
    case 'DiagnosticReport':
      return hasCategory(resource.category, DIAGNOSTIC_SERVICE_SECTION, 'LAB') ? [RECORD_PROFILES.labReport] : [];
    case 'Goal':
      return [RECORD_PROFILES.goal];
    case 'CarePlan':
      return [RECORD_PROFILES.carePlan];
    default:
      return [];
  }
}

/** The codings of a concept as written (the validator reports malformed ones; here they just match nothing). */
function codings(concept: CodeableConcept | undefined): { system?: unknown; code?: unknown }[] {
  const list: unknown = concept?.coding;
  return Array.isArray(list) ? list.filter((c): c is object => typeof c === 'object' && c !== null) : [];
}

function hasCategory(categories: CodeableConcept[] | undefined, system: string, code: string): boolean {
  return (
    Array.isArray(categories) &&
    categories.some((category) => codings(category).some((c) => c.system === system && c.code === code))
  );
}
