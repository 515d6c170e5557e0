import type { Observation, ObservationReferenceRange, Quantity } from '@medplum/fhirtypes';
import type { TestServer } from '../test/test-server';
import { startTestServer } from '../test/test-server';
import { INTERPRETATION_SYSTEM } from './interpretation';

let s: TestServer;
let patient: string;

beforeAll(async () => {
  s = await startTestServer();
  patient = (await s.create({ resourceType: 'Patient' })).id;
});

afterAll(async () => {
  await s?.stop();
});

const ucum = (value: number, code: string): Quantity => ({
  value,
  unit: code,
  system: 'http://unitsofmeasure.org',
  code,
});

function lab(code: string, value: Quantity, referenceRange?: ObservationReferenceRange[]): Observation {
  return {
    resourceType: 'Observation',
    status: 'final',
    category: [
      { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' }] },
    ],
    code: { coding: [{ system: 'http://loinc.org', code }] },
    subject: { reference: `Patient/${patient}` },
    effectiveDateTime: '2026-01-02T07:00:00Z',
    valueQuantity: value,
    ...(referenceRange ? { referenceRange } : {}),
  };
}

/** The interpretation code Hale stored (read back through the API). */
async function flagOf(obs: Observation): Promise<string | undefined> {
  const created = await s.create(obs);
  const read = await s.get<Observation>(`Observation/${created.id}`);
  return read.body.interpretation?.[0]?.coding?.find((c) => c.system === INTERPRETATION_SYSTEM)?.code;
}

describe('interpretation from the reference range', () => {
  const cholesterolRange = [{ low: ucum(0, 'mg/dL'), high: ucum(200, 'mg/dL') }];

  test('high, low and normal against the range, in the same unit', async () => {
    expect(await flagOf(lab('2093-3', ucum(240, 'mg/dL'), cholesterolRange))).toBe('H');
    expect(await flagOf(lab('2093-3', ucum(180, 'mg/dL'), cholesterolRange))).toBe('N');
    expect(await flagOf(lab('2093-3', ucum(200, 'mg/dL'), cholesterolRange))).toBe('N'); // bounds are inclusive
    expect(await flagOf(lab('2085-9', ucum(35, 'mg/dL'), [{ low: ucum(40, 'mg/dL') }]))).toBe('L');
  });

  test('a glucose stored in mg/dL is compared as written with a range in mmol/L', async () => {
    const range = [{ low: ucum(3.9, 'mmol/L'), high: ucum(5.5, 'mmol/L') }];
    const created = await s.create(lab('2339-0', ucum(7.2, 'mmol/L'), range));
    const read = (await s.get<Observation>(`Observation/${created.id}`)).body;
    expect(read.valueQuantity?.code).toBe('mg/dL');
    expect(read.interpretation?.[0]?.coding?.[0]?.code).toBe('H');
    expect(await flagOf(lab('2339-0', ucum(90, 'mg/dL'), [{ low: ucum(70, 'mg/dL'), high: ucum(99, 'mg/dL') }]))).toBe(
      'N'
    );
  });

  test('nothing is guessed: another unit, an age-specific range, or no range leave it uninterpreted', async () => {
    expect(await flagOf(lab('2093-3', ucum(6, 'mmol/L'), cholesterolRange))).toBeUndefined();
    const forAge = [{ high: ucum(200, 'mg/dL'), age: { low: { value: 18, unit: 'a' } } }];
    expect(await flagOf(lab('2093-3', ucum(240, 'mg/dL'), forAge))).toBeUndefined();
    expect(await flagOf(lab('2093-3', ucum(240, 'mg/dL')))).toBeUndefined();
  });

  test("the writer's own interpretation is kept", async () => {
    const given = { coding: [{ system: INTERPRETATION_SYSTEM, code: 'HH' }] };
    expect(await flagOf({ ...lab('2093-3', ucum(240, 'mg/dL'), cholesterolRange), interpretation: [given] })).toBe(
      'HH'
    );
  });

  test('components are interpreted against their own ranges', async () => {
    const created = await s.create<Observation>({
      ...lab('85354-9', ucum(0, 'mm[Hg]')),
      valueQuantity: undefined,
      component: [
        {
          code: { coding: [{ system: 'http://loinc.org', code: '8480-6' }] },
          valueQuantity: ucum(150, 'mm[Hg]'),
          referenceRange: [{ high: ucum(120, 'mm[Hg]') }],
        },
        {
          code: { coding: [{ system: 'http://loinc.org', code: '8462-4' }] },
          valueQuantity: ucum(75, 'mm[Hg]'),
          referenceRange: [{ high: ucum(80, 'mm[Hg]') }],
        },
      ],
    });
    const read = (await s.get<Observation>(`Observation/${created.id}`)).body;
    expect(read.component?.map((c) => c.interpretation?.[0]?.coding?.[0]?.code)).toEqual(['H', 'N']);
  });
});
