import type { Bundle, Observation } from '@medplum/fhirtypes';
import { account } from '../test/consent-fixtures';
import type { TestServer } from '../test/test-server';
import { matchIds, startTestServer } from '../test/test-server';
import { component, ucum, validReading } from './examples';
import { HALE_OBSERVATION_CODE, LOINC, ORIGINAL_QUANTITY_EXTENSION } from './measurements';

let s: TestServer;
let patientId: string;
let patientApp: Record<string, string>;

beforeAll(async () => {
  s = await startTestServer();
  patientId = (await s.create({ resourceType: 'Patient', name: [{ family: 'Rangi' }] })).id;
  const accountId = await account(s, ['patient'], { type: 'Patient', id: patientId });
  const token = await s.token({ scopes: ['patient/*.cruds'], accountId, patient: patientId });
  patientApp = { authorization: `Bearer ${token}` };
});

afterAll(async () => {
  await s?.stop();
});

const original = (q: ReturnType<typeof ucum>): { url: string; valueQuantity: ReturnType<typeof ucum> } => ({
  url: ORIGINAL_QUANTITY_EXTENSION,
  valueQuantity: q,
});

async function stored(o: Observation, headers?: Record<string, string>): Promise<Observation & { id: string }> {
  const res = await s.post<Observation & { id: string }>('Observation', o, headers);
  expect([res.status, res.body.resourceType]).toEqual([201, 'Observation']);
  const read = await s.get<Observation & { id: string }>(`Observation/${res.body.id}`);
  expect(read.body).toEqual(res.body);
  return read.body;
}

describe('UCUM normalisation on write', () => {
  test('a weight in [lb_av] is stored in kg, the value as written kept in original-quantity', async () => {
    const written = ucum(160, '[lb_av]', 'lb');
    const obs = await stored({ ...validReading('body-weight', patientId), valueQuantity: written });
    expect(obs.valueQuantity).toEqual({ ...ucum(72.57, 'kg'), extension: [original(written)] });
  });

  test('a temperature in [degF] is stored in Cel', async () => {
    const obs = await stored({ ...validReading('body-temperature', patientId), valueQuantity: ucum(100.4, '[degF]') });
    expect(obs.valueQuantity).toEqual({ ...ucum(38, 'Cel', '°C'), extension: [original(ucum(100.4, '[degF]'))] });
  });

  test('a blood glucose in mmol/L is stored in mg/dL (18.016 mg/dL per mmol/L)', async () => {
    const obs = await stored({ ...validReading('blood-glucose', patientId), valueQuantity: ucum(5.5, 'mmol/L') });
    expect(obs.valueQuantity).toEqual({ ...ucum(99, 'mg/dL'), extension: [original(ucum(5.5, 'mmol/L'))] });
  });

  test('components are converted by their code: a blood pressure in kPa, sleep stages in h', async () => {
    const bp = await stored(
      {
        ...validReading('blood-pressure', patientId),
        component: [component(LOINC, '8480-6', ucum(16, 'kPa')), component(LOINC, '8462-4', ucum(10.7, 'kPa'))],
      },
      patientApp
    );
    expect(bp.component?.map((c) => [c.valueQuantity?.value, c.valueQuantity?.code])).toEqual([
      [120, 'mm[Hg]'],
      [80, 'mm[Hg]'],
    ]);
    const sleep = await stored({
      ...validReading('sleep-duration', patientId),
      valueQuantity: ucum(7.5, 'h'),
      component: [component(HALE_OBSERVATION_CODE, 'sleep-deep', ucum(5400, 's'))],
    });
    expect(sleep.valueQuantity?.value).toBe(450);
    expect(sleep.component?.[0]?.valueQuantity).toEqual({
      ...ucum(90, 'min'),
      extension: [original(ucum(5400, 's'))],
    });
  });

  test('a patient app may write a weight in [lb_av]: the profile sees it in kg', async () => {
    const obs = await stored(
      { ...validReading('body-weight', patientId), valueQuantity: ucum(154, '[lb_av]') },
      patientApp
    );
    expect([obs.valueQuantity?.value, obs.valueQuantity?.code, obs.meta?.profile?.length]).toEqual([69.85, 'kg', 1]);
  });

  test('units outside UCUM are left as written (and a patient app is refused them)', async () => {
    const lb = { value: 160, unit: 'lb', code: 'lb' };
    const obs = await stored({ ...validReading('body-weight', patientId), valueQuantity: lb });
    expect(obs.valueQuantity).toEqual(lb);
    const res = await s.post(
      'Observation',
      { ...validReading('body-weight', patientId), valueQuantity: lb },
      patientApp
    );
    expect([res.status, res.body.issue?.[0]?.expression]).toEqual([400, ['Observation.value[x]']]);
  });

  test('a search by the normalised value finds the reading; by the value as written it does not', async () => {
    const obs = await stored({
      ...validReading('body-weight', patientId, '2026-04-01T08:00:00Z'),
      valueQuantity: ucum(200, '[lb_av]'),
    });
    const q = (v: string): string => `Observation?subject=Patient/${patientId}&value-quantity=${encodeURIComponent(v)}`;
    expect(matchIds(await s.search(q('90.72|http://unitsofmeasure.org|kg')))).toEqual([obs.id]);
    expect(matchIds(await s.search(q('gt90|http://unitsofmeasure.org|kg')))).toEqual([obs.id]);
    expect(matchIds(await s.search(q('200|http://unitsofmeasure.org|[lb_av]')))).toEqual([]);
  });

  test('writing the stored reading back changes nothing; a new value in [lb_av] replaces the original', async () => {
    const obs = await stored({ ...validReading('body-weight', patientId), valueQuantity: ucum(180, '[lb_av]') });
    const same = await s.put<Observation>(`Observation/${obs.id}`, obs);
    expect([same.status, same.body.meta?.versionId]).toEqual([200, '1']);
    const changed = await s.put<Observation>(`Observation/${obs.id}`, {
      ...obs,
      valueQuantity: { ...ucum(181, '[lb_av]'), extension: obs.valueQuantity?.extension },
    });
    expect([changed.body.meta?.versionId, changed.body.valueQuantity]).toEqual([
      '2',
      { ...ucum(82.1, 'kg'), extension: [original(ucum(181, '[lb_av]'))] },
    ]);
  });

  test('a transaction Bundle is normalised entry by entry', async () => {
    const res = await s.post<Bundle>('', {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        {
          resource: { ...validReading('body-height', patientId), valueQuantity: ucum(70, '[in_i]') },
          request: { method: 'POST', url: 'Observation' },
        },
      ],
    });
    expect(res.status).toBe(200);
    const id = res.body.entry?.[0]?.response?.location?.split('/')[1];
    const read = await s.get<Observation>(`Observation/${id}`);
    expect([read.body.valueQuantity?.value, read.body.valueQuantity?.code]).toEqual([177.8, 'cm']);
  });
});
