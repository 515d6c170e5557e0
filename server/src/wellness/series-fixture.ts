import type { Observation } from '@medplum/fhirtypes';
import { account, sharingConsent, userToken } from '../test/consent-fixtures';
import type { TestServer } from '../test/test-server';
import { component, ucum, validReading } from './examples';
import { LOINC } from './measurements';

/**
 * Test support for $lastn and $stats: a small known series of Aroha's readings (and one of Ben's), Aroha's own
 * app, a provider with a vitals grant for part of January 2026, one with a labs grant, and one with nothing.
 */
export interface Series {
  patientId: string;
  otherPatientId: string;
  ids: Record<string, string>;
  /** authorization headers by caller */
  as: Record<'patientApp' | 'januaryVitals' | 'labsOnly' | 'noGrant' | 'noObservationScope', Record<string, string>>;
}

const heartRate = (patient: string, at: string, bpm: number, extra: Partial<Observation> = {}): Observation => ({
  ...validReading('heart-rate', patient, at),
  valueQuantity: ucum(bpm, '/min'),
  ...extra,
});

const bloodPressure = (
  patient: string,
  at: string,
  systolic: number,
  diastolic: number,
  pulse?: number
): Observation => ({
  ...validReading('blood-pressure', patient, at),
  component: [
    component(LOINC, '8480-6', ucum(systolic, 'mm[Hg]')),
    component(LOINC, '8462-4', ucum(diastolic, 'mm[Hg]')),
    ...(pulse ? [component(LOINC, '8867-4', ucum(pulse, '/min'))] : []),
  ],
});

export async function createSeries(s: TestServer): Promise<Series> {
  const patientId = (await s.create({ resourceType: 'Patient', name: [{ family: 'Aroha' }] })).id;
  const otherPatientId = (await s.create({ resourceType: 'Patient', name: [{ family: 'Ben' }] })).id;
  const ids: Record<string, string> = {};
  const readings: Record<string, Observation> = {
    hr1: heartRate(patientId, '2026-01-01T08:00:00Z', 60),
    hr2: heartRate(patientId, '2026-01-01T20:00:00Z', 70),
    hr3: heartRate(patientId, '2026-01-02T08:00:00Z', 80),
    hr4: heartRate(patientId, '2026-01-03T08:00:00Z', 90),
    hr5: heartRate(patientId, '2026-02-01T08:00:00Z', 100),
    hrError: heartRate(patientId, '2026-01-02T12:00:00Z', 500, { status: 'entered-in-error' }),
    hrOther: heartRate(otherPatientId, '2026-01-02T08:00:00Z', 150),
    bp1: bloodPressure(patientId, '2026-01-01T09:00:00Z', 120, 80),
    bp2: bloodPressure(patientId, '2026-01-02T09:00:00Z', 130, 85),
    bp3: bloodPressure(patientId, '2026-01-03T09:00:00Z', 140, 90, 75),
    weight: { ...validReading('body-weight', patientId, '2026-01-05T07:00:00Z'), valueQuantity: ucum(160, '[lb_av]') },
    mood1: { ...validReading('mood', patientId, '2026-01-01T21:00:00Z'), valueInteger: 3 },
    mood2: { ...validReading('mood', patientId, '2026-01-02T21:00:00Z'), valueInteger: 4 },
    mood3: { ...validReading('mood', patientId, '2026-01-03T21:00:00Z'), valueInteger: 5 },
    glucose: validReading('blood-glucose', patientId, '2026-01-02T07:00:00Z'),
  };
  for (const [name, reading] of Object.entries(readings)) {
    ids[name] = (await s.create(reading)).id;
  }
  const provider = async (family: string): Promise<{ ref: string; headers: Record<string, string> }> => {
    const practitioner = await s.create({ resourceType: 'Practitioner', name: [{ family }] });
    const token = await userToken(s, await account(s, ['provider'], { type: 'Practitioner', id: practitioner.id }));
    return { ref: `Practitioner/${practitioner.id}`, headers: { authorization: `Bearer ${token}` } };
  };
  const januaryVitals = await provider('Vitals');
  await s.create(
    sharingConsent({
      patient: patientId,
      actor: { reference: januaryVitals.ref },
      categories: ['vitals'],
      dataPeriod: { start: '2026-01-02', end: '2026-01-20' },
    })
  );
  const labsOnly = await provider('Labs');
  await s.create(sharingConsent({ patient: patientId, actor: { reference: labsOnly.ref }, categories: ['labs'] }));
  const noGrant = await provider('Nobody');
  const patientAccount = await account(s, ['patient'], { type: 'Patient', id: patientId });
  const bearer = async (scopes: string[]): Promise<Record<string, string>> => ({
    authorization: `Bearer ${await s.token({ scopes, accountId: patientAccount, patient: patientId })}`,
  });
  return {
    patientId,
    otherPatientId,
    ids,
    as: {
      patientApp: await bearer(['patient/*.rs']),
      januaryVitals: januaryVitals.headers,
      labsOnly: labsOnly.headers,
      noGrant: noGrant.headers,
      noObservationScope: await bearer(['patient/Patient.rs']),
    },
  };
}
