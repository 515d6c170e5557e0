import type { Flag, Observation, Patient } from '@medplum/fhirtypes';
import type { MockClient } from '@medplum/mock';
import type { DerivedResult } from './derived-measurements';
import { handler, RMSSD_PER_SDNN } from './derived-measurements';
import { botEvent, createPatient, newMedplum, vital } from './lib/test-support';
import { ICD10, SYSTEM } from './lib/vocabulary';

let medplum: MockClient;
let patient: Patient & { id: string };

beforeEach(async () => {
  medplum = newMedplum();
  patient = await createPatient(medplum);
});

async function observe(obs: Observation): Promise<DerivedResult> {
  return handler(medplum, botEvent(await medplum.createResource(obs)));
}

const bmis = async (): Promise<Observation[]> =>
  medplum.searchResources('Observation', 'code=http://loinc.org|39156-5');
const flags = async (): Promise<Flag[]> => medplum.searchResources('Flag', { _count: 100 });

describe('BMI', () => {
  test('is derived from the latest weight and height, derivedFrom both, in kg/m2', async () => {
    const height = await medplum.createResource(vital(patient, '8302-2', '2024-06-01T09:00:00Z', [172, 'cm']));
    const weight = await medplum.createResource(vital(patient, '29463-7', '2025-03-01T07:00:00Z', [85, 'kg']));
    const result = await handler(medplum, botEvent(weight));
    const [bmi] = await bmis();
    expect(result.derived).toEqual([`Observation/${bmi?.id}`]);
    expect(bmi).toMatchObject({
      status: 'final',
      valueQuantity: { value: 28.7, code: 'kg/m2', system: 'http://unitsofmeasure.org' },
      effectiveDateTime: '2025-03-01T07:00:00.000Z',
      derivedFrom: [{ reference: `Observation/${weight.id}` }, { reference: `Observation/${height.id}` }],
    });
  });

  test('a new height recomputes the BMI of the latest weight, converting pounds and inches', async () => {
    await observe(vital(patient, '29463-7', '2025-03-01T07:00:00Z', [187.4, '[lb_av]']));
    expect(await bmis()).toHaveLength(0);
    await observe(vital(patient, '8302-2', '2025-03-02T09:00:00Z', [67.7, '[in_i]']));
    expect((await bmis()).map((b) => b.valueQuantity?.value)).toEqual([28.7]);
  });

  test('is idempotent, never derives from a derived value, and updates (amended) when the height is corrected', async () => {
    await medplum.createResource(vital(patient, '8302-2', '2024-06-01T09:00:00Z', [172, 'cm']));
    const weight = await medplum.createResource(vital(patient, '29463-7', '2025-03-01T07:00:00Z', [85, 'kg']));
    await handler(medplum, botEvent(weight));
    await handler(medplum, botEvent(weight));
    const [bmi] = await bmis();
    expect(await handler(medplum, botEvent(bmi))).toMatchObject({ skipped: 'derived values are not derived from' });
    const derivedWeight = { ...weight, id: 'x', derivedFrom: [{ reference: `Observation/${bmi?.id}` }] };
    expect(await handler(medplum, botEvent(derivedWeight))).toMatchObject({
      skipped: 'derived values are not derived from',
    });
    expect(await bmis()).toHaveLength(1);

    await observe(vital(patient, '8302-2', '2025-03-02T09:00:00Z', [180, 'cm']));
    expect((await bmis()).map((b) => [b.valueQuantity?.value, b.status])).toEqual([[26.2, 'amended']]);
  });
});

describe('weight-management eligibility', () => {
  test('BMI 30 or more raises one eligibility Flag pointing to the BMI', async () => {
    await medplum.createResource(vital(patient, '8302-2', '2024-06-01T09:00:00Z', [170, 'cm']));
    const result = await observe(vital(patient, '29463-7', '2025-03-01T07:00:00Z', [90, 'kg']));
    expect(result.eligibility).toBe('flagged');
    await observe(vital(patient, '29463-7', '2025-03-02T07:00:00Z', [91, 'kg']));
    const [flag, ...more] = await flags();
    expect(more).toEqual([]);
    expect(flag?.code.coding?.[0]).toEqual({ system: SYSTEM.flagCode, code: 'weight-management-eligible' });
    expect(flag?.extension?.[0]?.valueReference?.reference).toBe(result.derived[0]);
  });

  test('BMI 27 to 30 needs a weight-related condition (E11.9 counts as type 2 diabetes)', async () => {
    await medplum.createResource(vital(patient, '8302-2', '2024-06-01T09:00:00Z', [170, 'cm']));
    const without = await observe(vital(patient, '29463-7', '2025-03-01T07:00:00Z', [81, 'kg']));
    expect([without.eligibility, (await flags()).length]).toEqual(['unchanged', 0]);
    await medplum.createResource({
      resourceType: 'Condition',
      subject: { reference: `Patient/${patient.id}` },
      clinicalStatus: {
        coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }],
      },
      code: { coding: [{ system: ICD10, code: 'E11.9' }] },
    });
    const withDiabetes = await observe(vital(patient, '29463-7', '2025-03-02T07:00:00Z', [81, 'kg']));
    expect(withDiabetes.eligibility).toBe('flagged');
  });

  test('the Flag ends when the latest BMI falls below the threshold; an older weight does not change it', async () => {
    await medplum.createResource(vital(patient, '8302-2', '2024-06-01T09:00:00Z', [170, 'cm']));
    await observe(vital(patient, '29463-7', '2025-03-01T07:00:00Z', [90, 'kg']));
    const old = await observe(vital(patient, '29463-7', '2024-01-01T07:00:00Z', [70, 'kg']));
    expect(old.eligibility).toBe('unchanged');
    const lower = await observe(vital(patient, '29463-7', '2025-06-01T07:00:00Z', [75, 'kg']));
    expect(lower.eligibility).toBe('unflagged');
    expect((await flags()).map((f) => f.status)).toEqual(['inactive']);
  });
});

describe('HRV RMSSD from SDNN', () => {
  test('is estimated when only SDNN arrives, marked derived with the method and its source', async () => {
    const sdnn = await medplum.createResource(vital(patient, '80404-7', '2025-03-01T06:00:00Z', [50, 'ms']));
    const result = await handler(medplum, botEvent(sdnn));
    const rmssd = await medplum.readReference<Observation>({ reference: result.derived[0] });
    expect(rmssd).toMatchObject({
      code: { coding: [expect.objectContaining({ system: SYSTEM.observationCode, code: 'hrv-rmssd' })] },
      valueQuantity: { value: 50 * RMSSD_PER_SDNN, code: 'ms' },
      derivedFrom: [{ reference: `Observation/${sdnn.id}` }],
      effectiveDateTime: '2025-03-01T06:00:00Z',
    });
    expect(rmssd.method?.text).toMatch(new RegExp(`^Estimate, not a measurement.*Observation/${sdnn.id}.*Nunan`));
    await handler(medplum, botEvent(sdnn));
    expect(await medplum.searchResources('Observation', `code=${SYSTEM.observationCode}|hrv-rmssd`)).toHaveLength(1);
  });

  test('is not estimated when RMSSD was measured alongside', async () => {
    await medplum.createResource({
      ...vital(patient, '80404-7', '2025-03-01T06:00:00Z', [42, 'ms']),
      code: { coding: [{ system: SYSTEM.observationCode, code: 'hrv-rmssd' }] },
    });
    const result = await observe(vital(patient, '80404-7', '2025-03-01T06:00:00Z', [50, 'ms']));
    expect(result).toEqual({ derived: [], skipped: 'RMSSD was measured' });
  });
});
