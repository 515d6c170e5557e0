import type { Category } from './vocabulary';
import { OBSERVATION_CATEGORY_SYSTEM, WELLNESS_CATEGORIES, WELLNESS_CATEGORY_SYSTEM } from './vocabulary';

/** An Observation category coding (system|code) that places an Observation in a sharing category. */
export interface CategoryCoding {
  system: string;
  code: string;
}

/**
 * What each sharing category covers: whole resource types, and Observations by their category.
 * The Patient resource itself belongs to every category (a provider who sees any of a patient's
 * data may see who the patient is).
 */
export interface CategoryDefinition {
  types: readonly string[];
  observationCategories: readonly CategoryCoding[];
}

const obs = (system: string, codes: readonly string[]): CategoryCoding[] => codes.map((code) => ({ system, code }));

export const CATEGORY_DEFINITIONS: Record<Exclude<Category, 'all'>, CategoryDefinition> = {
  medications: {
    types: ['MedicationStatement', 'MedicationRequest', 'MedicationDispense', 'MedicationAdministration'],
    observationCategories: [],
  },
  labs: {
    types: ['DiagnosticReport', 'Specimen'],
    observationCategories: obs(OBSERVATION_CATEGORY_SYSTEM, ['laboratory']),
  },
  vitals: {
    types: [],
    observationCategories: [
      ...obs(OBSERVATION_CATEGORY_SYSTEM, ['vital-signs', 'activity']),
      ...obs(WELLNESS_CATEGORY_SYSTEM, WELLNESS_CATEGORIES),
    ],
  },
  'medical-history': {
    types: ['Condition', 'Procedure', 'AllergyIntolerance', 'Immunization', 'FamilyMemberHistory'],
    observationCategories: [],
  },
  'care-plans': { types: ['CarePlan', 'Goal', 'Task'], observationCategories: [] },
  documents: { types: ['DocumentReference', 'Binary'], observationCategories: [] },
};

/**
 * Compartment types "all" does not cover: the patient's access log and their sharing decisions
 * are the patient's (and a guardian's) alone.
 */
export const PATIENT_ONLY_TYPES: readonly string[] = ['AuditEvent', 'Consent'];

/**
 * The search parameter that holds each type's clinical date, for Consent.provision.dataPeriod.
 * Types not listed are dated by when they were last written (meta.lastUpdated).
 */
export const CLINICAL_DATE_PARAMS: Record<string, string> = {
  Observation: 'date',
  DiagnosticReport: 'date',
  Specimen: 'collected',
  Condition: 'onset-date',
  Procedure: 'date',
  AllergyIntolerance: 'date',
  Immunization: 'date',
  FamilyMemberHistory: 'date',
  MedicationRequest: 'authoredon',
  MedicationStatement: 'effective',
  MedicationAdministration: 'effective-time',
  MedicationDispense: 'whenhandedover',
  CarePlan: 'date',
  Goal: 'start-date',
  Task: 'authored-on',
  DocumentReference: 'date',
  Encounter: 'date',
  Appointment: 'date',
  ImagingStudy: 'started',
  ServiceRequest: 'authored',
  ClinicalImpression: 'date',
};
