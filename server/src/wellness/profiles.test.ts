import { haleConformanceResources } from '@hale/fhir-profiles';
import type { Observation, OperationOutcome, StructureDefinition } from '@medplum/fhirtypes';
import { account } from '../test/consent-fixtures';
import type { TestServer } from '../test/test-server';
import { startTestServer } from '../test/test-server';
import { BREAKS, component, measurement, ucum, validReading } from './examples';
import { LOINC, MEASUREMENTS, UCUM } from './measurements';
import { canConvert } from './units';

const published = haleConformanceResources().structureDefinitions;
const keys = MEASUREMENTS.map((m) => m.key);
const NOT_VITAL_SIGNS = ['blood-glucose', 'sleep-duration', 'steps', 'active-energy', 'mood'];

function profileOf(url: string): StructureDefinition {
  const sd = published.find((p) => p.url === url);
  if (!sd) {
    throw new Error(`fhir-profiles publishes no ${url}`);
  }
  return sd;
}

describe('the measurements table and the published profiles', () => {
  test.each(keys)('%s: its code and unit are the ones the profile requires', (key) => {
    const m = measurement(key);
    const sd = profileOf(m.profile);
    const text = JSON.stringify(sd.differential);
    for (const c of m.codes) {
      expect(text).toContain(c.code);
    }
    // The vital signs and HRV on R4's vitalsigns profile; the rest (no vital sign in R4) on Observation.
    const base = NOT_VITAL_SIGNS.includes(key) ? 'Observation' : 'vitalsigns';
    expect(sd.baseDefinition).toBe(`http://hl7.org/fhir/StructureDefinition/${base}`);
    if (m.value.kind === 'quantity') {
      expect(text).toContain(`system = '${UCUM}' and code = '${m.value.unit}'`);
      for (const unit of m.value.accepts) {
        expect([unit, canConvert(unit, m.value.unit)]).toEqual([unit, true]);
      }
    }
    for (const rule of m.components ?? []) {
      expect(text).toContain(`code = '${rule.unit}'`);
      expect(rule.accepts.filter((unit) => !canConvert(unit, rule.unit))).toEqual([]);
    }
  });
});

describe('measurement profiles at write', () => {
  let s: TestServer;
  let patientId: string;
  let patientApp: Record<string, string>;

  beforeAll(async () => {
    s = await startTestServer();
    patientId = (await s.create({ resourceType: 'Patient', name: [{ family: 'Tane' }] })).id;
    const accountId = await account(s, ['patient'], { type: 'Patient', id: patientId });
    patientApp = {
      authorization: `Bearer ${await s.token({ scopes: ['patient/*.cruds'], accountId, patient: patientId })}`,
    };
  });

  afterAll(async () => {
    await s?.stop();
  });

  const claiming = (o: Observation, url: string): Observation => ({ ...o, meta: { profile: [url] } });

  async function rejectedAt(o: Observation, headers?: Record<string, string>): Promise<string[]> {
    const res = await s.post<OperationOutcome>('Observation', o, headers);
    expect([res.status, res.body.resourceType]).toEqual([400, 'OperationOutcome']);
    return [...new Set((res.body.issue ?? []).flatMap((i) => i.expression ?? []))].sort();
  }

  test.each(keys)('%s: a conformant reading claiming the profile is stored (201)', async (key) => {
    const res = await s.post('Observation', claiming(validReading(key, patientId), measurement(key).profile));
    expect([res.status, res.body.issue]).toEqual([201, undefined]);
  });

  test.each(keys)('%s: a reading that breaks the profile answers 400 naming the element', async (key) => {
    const broken = BREAKS[key];
    if (!broken) {
      throw new Error(`no break for ${key}`);
    }
    const reading = broken.change(claiming(validReading(key, patientId), measurement(key).profile));
    expect(await rejectedAt(reading)).toEqual(broken.elements);
  });

  test.each(keys)('%s: a patient app is held to the profile without claiming it', async (key) => {
    const broken = BREAKS[key];
    if (!broken) {
      throw new Error(`no break for ${key}`);
    }
    const good = await s.post<Observation>('Observation', validReading(key, patientId), patientApp);
    expect([good.status, good.body.meta?.profile]).toEqual([201, [measurement(key).profile]]);
    // A patient app writes about its own patient: breaking the subject is refused by access first. A reading
    // whose code is no longer the measurement's is not that measurement: no profile to hold it to.
    if (!['body-weight', 'body-height', 'oxygen-saturation'].includes(key)) {
      expect(await rejectedAt(broken.change(validReading(key, patientId)), patientApp)).toEqual(broken.elements);
    }
  });

  test('a blood pressure reading without its components is refused for a patient app, naming Observation.component', async () => {
    const { component: _omit, ...noComponents } = validReading('blood-pressure', patientId);
    const res = await s.post<OperationOutcome>('Observation', noComponents, patientApp);
    expect(res.status).toBe(400);
    // (The validator reports the first failing invariant of an element: here R4's vs-2, value or components.)
    expect(res.body.issue?.map((i) => [i.expression?.[0], i.details?.text])).toEqual([
      ['Observation', expect.stringContaining('vs-2')],
      ['Observation.component', 'Missing required property'],
    ]);
    const onlySystolic = validReading('blood-pressure', patientId);
    onlySystolic.component = onlySystolic.component?.slice(0, 1);
    const missing = await s.post<OperationOutcome>('Observation', onlySystolic, patientApp);
    expect(missing.body.issue?.map((i) => [i.expression?.[0], i.details?.text])).toEqual([
      ['Observation', expect.stringContaining('exactly one diastolic blood pressure (LOINC 8462-4)')],
      ['Observation.component', 'Invalid number of values: expected 2..*, but found 1'],
    ]);
    const kpa = validReading('blood-pressure', patientId);
    kpa.component = [
      component(LOINC, '8480-6', ucum(128, 'mm[Hg]')),
      component(LOINC, '8462-4', { value: 11, unit: 'kPa' }),
    ];
    expect(await rejectedAt(kpa, patientApp)).toEqual(['Observation.component[1]']);
  });

  test('a system token (an EHR import) may store a reading that does not conform, and nothing is stamped', async () => {
    const { component: _omit, ...noComponents } = validReading('blood-pressure', patientId);
    const res = await s.post<Observation>('Observation', noComponents);
    expect([res.status, res.body.meta?.profile]).toEqual([201, undefined]);
  });

  test('a patient app may write an Observation Hale has no profile for', async () => {
    const other: Observation = {
      resourceType: 'Observation',
      status: 'final',
      code: { text: 'Pain' },
      subject: { reference: `Patient/${patientId}` },
      valueString: 'mild',
    };
    const res = await s.post<Observation>('Observation', other, patientApp);
    expect([res.status, res.body.meta?.profile]).toEqual([201, undefined]);
  });

  test('an update by the patient app is held to the profile too', async () => {
    const stored = await s.post<Observation>('Observation', validReading('heart-rate', patientId), patientApp);
    const res = await s.put<OperationOutcome>(
      `Observation/${stored.body.id}`,
      { ...stored.body, valueQuantity: { value: 70 } },
      patientApp
    );
    expect([res.status, res.body.issue?.[0]?.expression]).toEqual([400, ['Observation.value[x]']]);
  });
});

describe('REQUIRE_PROFILES=none', () => {
  let s: TestServer;

  beforeAll(async () => {
    s = await startTestServer({ REQUIRE_PROFILES: 'none' });
  });

  afterAll(async () => {
    await s?.stop();
  });

  test('a patient app may store a blood pressure without components', async () => {
    const patientId = (await s.create({ resourceType: 'Patient' })).id;
    const accountId = await account(s, ['patient'], { type: 'Patient', id: patientId });
    const token = await s.token({ scopes: ['patient/*.cruds'], accountId, patient: patientId });
    const { component: _omit, ...noComponents } = validReading('blood-pressure', patientId);
    const res = await s.post('Observation', noComponents, { authorization: `Bearer ${token}` });
    expect(res.status).toBe(201);
  });
});
