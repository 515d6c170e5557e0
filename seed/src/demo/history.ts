import type { AllergyIntolerance, Immunization, MedicationStatement } from '@medplum/fhirtypes';
import { DAY_MS, formatDate } from '../time';
import type { DemoEntry, RecordWriter } from './records';
import type { DemoDay } from './vitals';

/**
 * The demo person's medications, allergy and immunisation (plain R4: Hale has no profile of its own for them):
 * the portal's medications and allergies screens, and categories the provider is not shared.
 */

const SNOMED = 'http://snomed.info/sct';
const RXNORM = 'http://www.nlm.nih.gov/research/umls/rxnorm';

export function historyOf(w: RecordWriter, patientId: string, days: readonly DemoDay[]): DemoEntry[] {
  const first = days[0];
  if (!first) {
    return [];
  }
  const patient = { reference: `Patient/${patientId}` };
  // Started after the first lipid panel (day 14 of the year).
  const statinStart = formatDate(first.dayMs + 21 * DAY_MS);
  return [
    w.entry({
      resourceType: 'MedicationStatement',
      status: 'active',
      medicationCodeableConcept: {
        coding: [{ system: RXNORM, code: '617312', display: 'atorvastatin 20 MG Oral Tablet' }],
        text: 'Atorvastatin 20 mg',
      },
      subject: patient,
      effectivePeriod: { start: statinStart },
      dateAsserted: statinStart,
      dosage: [{ text: 'One tablet in the evening' }],
    } satisfies MedicationStatement),
    w.entry({
      resourceType: 'AllergyIntolerance',
      clinicalStatus: {
        coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: 'active' }],
      },
      verificationStatus: {
        coding: [
          { system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-verification', code: 'confirmed' },
        ],
      },
      type: 'allergy',
      category: ['medication'],
      criticality: 'low',
      code: { coding: [{ system: SNOMED, code: '91936005', display: 'Allergy to penicillin' }] },
      patient,
      recordedDate: formatDate(first.dayMs),
      reaction: [{ manifestation: [{ coding: [{ system: SNOMED, code: '271807003', display: 'Skin rash' }] }] }],
    } satisfies AllergyIntolerance),
    w.entry({
      resourceType: 'Immunization',
      status: 'completed',
      vaccineCode: {
        coding: [{ system: 'http://hl7.org/fhir/sid/cvx', code: '158', display: 'Influenza, injectable' }],
      },
      patient,
      occurrenceDateTime: `${formatDate(first.dayMs + 120 * DAY_MS)}T10:00:00Z`,
      primarySource: true,
    } satisfies Immunization),
  ];
}
