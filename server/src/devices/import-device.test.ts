import type {
  Device,
  Observation,
  OperationOutcome,
  OperationOutcomeIssue,
  ParametersParameter,
} from '@medplum/fhirtypes';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { account } from '../test/consent-fixtures';
import type { TestServer } from '../test/test-server';
import { startTestServer } from '../test/test-server';

/** A Parameters summary, or an OperationOutcome. */
interface Answer {
  resourceType: string;
  parameter?: ParametersParameter[];
  issue?: OperationOutcomeIssue[];
}

let s: TestServer;
let patientApp: string;
let patientId: string;
let otherPatient: string;

const TESTDATA = join(__dirname, 'testdata');
const file = (name: string): string => readFileSync(join(TESTDATA, name), 'utf8');

beforeAll(async () => {
  s = await startTestServer();
  patientId = (await s.create({ resourceType: 'Patient', name: [{ family: 'Aroha' }] })).id;
  otherPatient = (await s.create({ resourceType: 'Patient', name: [{ family: 'Other' }] })).id;
  const accountId = await account(s, ['patient'], { type: 'Patient', id: patientId });
  patientApp = await s.token({ scopes: ['patient/*.cruds'], accountId, patient: patientId });
});

afterAll(async () => {
  await s?.stop();
});

/** POSTs a file as it is (not JSON), as an app would. */
async function importFile(
  patient: string,
  query: string,
  body: string,
  contentType: string,
  token = patientApp
): Promise<{ status: number; body: Answer }> {
  const res = await fetch(`${s.base}/Patient/${patient}/$import-device?${query}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': contentType },
    body,
  });
  return { status: res.status, body: (await res.json()) as Answer };
}

const value = (p: Answer, name: string): unknown => {
  const param = p.parameter?.find((x) => x.name === name);
  return param?.valueInteger ?? param?.valueString;
};

function perMeasurement(p: Answer): Record<string, [number, number]> {
  const out: Record<string, [number, number]> = {};
  for (const m of p.parameter?.filter((x) => x.name === 'measurement') ?? []) {
    const part = (name: string): ParametersParameterLike | undefined => m.part?.find((x) => x.name === name);
    out[part('code')?.valueCode ?? ''] = [part('created')?.valueInteger ?? -1, part('existing')?.valueInteger ?? -1];
  }
  return out;
}
type ParametersParameterLike = { valueCode?: string; valueInteger?: number };

async function observations(query: string, patient = patientId): Promise<Observation[]> {
  const bundle = await s.search(`Observation?subject=Patient/${patient}&_count=1000&${query}`);
  return (bundle.entry ?? []).map((e) => e.resource as Observation);
}

describe('POST Patient/[id]/$import-device', () => {
  test('imports an Apple Health export.xml: measurements in Hale units, one Device per source, the rest counted', async () => {
    const res = await importFile(patientId, 'kind=apple-health', file('apple-health-export.xml'), 'application/xml');
    expect([res.status, res.body.issue]).toEqual([200, undefined]);
    expect(perMeasurement(res.body)).toEqual({
      'blood-pressure': [1, 0],
      'body-weight': [1, 0],
      'heart-rate': [2, 0],
      'oxygen-saturation': [1, 0],
      'resting-heart-rate': [1, 0],
      steps: [1, 0],
    });
    expect(value(res.body, 'created')).toBe(7);
    expect(value(res.body, 'rejected')).toBe(2);
    expect((await observations('code=http://loinc.org|40443-4'))[0]?.effectiveDateTime).toBe('2024-01-15');
    const reasons = res.body.parameter?.filter((p) => p.name === 'rejection').map((p) => p.part?.[1]?.valueString);
    expect(reasons).toEqual([
      expect.stringContaining("unit 'count/s'"),
      expect.stringContaining("'n/a' is not a number"),
    ]);
    const skips = res.body.parameter?.filter((p) => p.name === 'skip').map((p) => p.part?.[0]?.valueString);
    expect(skips).toEqual(
      expect.arrayContaining([
        'HKQuantityTypeIdentifierDietaryWater (no Hale measurement)',
        '<Workout> (not a measurement)',
        'HKQuantityTypeIdentifierBloodPressureSystolic (read from its blood pressure correlation)',
      ])
    );

    const [weight] = await observations('code=http://loinc.org|29463-7');
    expect(weight?.valueQuantity).toMatchObject({ value: 69.99, code: 'kg', system: 'http://unitsofmeasure.org' });
    expect(weight?.meta?.profile).toEqual(['https://hale.health/fhir/StructureDefinition/hale-body-weight']);
    const [spo2] = await observations('code=http://loinc.org|59408-5');
    expect(spo2?.valueQuantity).toMatchObject({ value: 97, code: '%' });
    const [bp] = await observations('code=http://loinc.org|85354-9');
    expect(bp?.component?.map((c) => c.valueQuantity?.value)).toEqual([124, 79]);
    const heartRates = await observations('code=http://loinc.org|8867-4');
    expect(heartRates.map((o) => o.effectiveDateTime).sort()).toEqual([
      '2024-01-15T08:30:00-05:00',
      '2024-01-15T08:35:00-05:00',
    ]);
    const watch = (await s.get<Device>(heartRates[0]?.device?.reference ?? '')).body;
    expect(watch).toMatchObject({
      manufacturer: 'Apple Inc.',
      modelNumber: 'Watch6,1',
      deviceName: [{ name: 'Jane’s Apple Watch', type: 'user-friendly-name' }],
      patient: { reference: `Patient/${patientId}` },
    });
    const devices = await s.search(`Device?patient=Patient/${patientId}`);
    expect(devices.entry?.length).toBe(4); // the watch, the iPhone, Health (manual entry), Withings
  });

  test('importing the same file again creates nothing: every reading is found by its identifier', async () => {
    const res = await importFile(patientId, 'kind=apple-health', file('apple-health-export.xml'), 'text/xml');
    expect(res.status).toBe(200);
    expect(value(res.body, 'created')).toBe(0);
    expect(value(res.body, 'existing')).toBe(7);
    expect(res.body.parameter?.filter((p) => p.name === 'device').map((p) => p.part?.[1]?.valueBoolean)).toEqual([
      false,
      false,
      false,
      false,
    ]);
    expect(await observations('code=http://loinc.org|8867-4')).toHaveLength(2);
    expect((await s.search(`Device?patient=Patient/${patientId}`)).entry?.length).toBe(4);
  });

  test('two imports of the same file at once store each reading once', async () => {
    const patient = (await s.create({ resourceType: 'Patient', name: [{ family: 'Twice' }] })).id;
    const readings = Array.from({ length: 1400 }, (_, i) => ({
      dateTime: `01/16/24 ${String(Math.floor(i / 60) % 24).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}:00`,
      value: { bpm: 60 + (i % 30), confidence: 3 },
    }));
    const body = JSON.stringify(readings);
    const [a, b] = await Promise.all([
      importFile(patient, 'kind=fitbit&metric=heart_rate', body, 'application/json', s.systemToken),
      importFile(patient, 'kind=fitbit&metric=heart_rate', body, 'application/json', s.systemToken),
    ]);
    expect([a.status, b.status]).toEqual([200, 200]);
    expect((value(a.body, 'created') as number) + (value(b.body, 'created') as number)).toBe(1400);
    expect((value(a.body, 'existing') as number) + (value(b.body, 'existing') as number)).toBe(1400);
    const count = await s.search(`Observation?subject=Patient/${patient}&_summary=count`);
    expect(count.total).toBe(1400);
    expect((await s.search(`Device?patient=Patient/${patient}&_summary=count`)).total).toBe(1);
  });

  test('imports Fitbit heart rate and sleep files, the metric read from the records', async () => {
    const hr = await importFile(patientId, 'kind=fitbit', file('heart_rate-2024-01-15.json'), 'application/json');
    expect(hr.status).toBe(200);
    expect(perMeasurement(hr.body)).toEqual({ 'heart-rate': [3, 0] });
    expect(value(hr.body, 'rejected')).toBe(1);
    const sleep = await importFile(patientId, 'kind=fitbit', file('sleep-2024-01-15.json'), 'application/json');
    expect(perMeasurement(sleep.body)).toEqual({ 'sleep-duration': [1, 0] });
    const [night] = await observations('code=http://loinc.org|93832-4');
    expect(night?.effectivePeriod).toEqual({ start: '2024-01-14T23:10:30.000Z', end: '2024-01-15T06:45:30.000Z' });
    expect(night?.component?.map((c) => [c.code.coding?.[0]?.code, c.valueQuantity?.value])).toEqual([
      ['sleep-deep', 78],
      ['sleep-light', 236],
      ['sleep-rem', 96],
      ['sleep-awake', 45],
    ]);
  });

  test('imports Garmin Activities.csv: the calories of each activity over its period', async () => {
    const res = await importFile(patientId, 'kind=garmin', file('Activities.csv'), 'text/csv');
    expect(res.status).toBe(200);
    expect(perMeasurement(res.body)).toEqual({ 'active-energy': [2, 0] });
    expect(value(res.body, 'rejected')).toBe(1);
    const energy = await observations('code=http://loinc.org|41981-2&_sort=date');
    expect(energy[0]).toMatchObject({
      valueQuantity: { value: 1012, code: 'kcal' },
      effectivePeriod: { start: '2024-01-15T07:00:12Z', end: '2024-01-15T07:45:24Z' },
    });
  });

  test('imports an Oura trends CSV: sleep in minutes, resting heart rate, HRV with its method', async () => {
    const res = await importFile(patientId, 'kind=oura', file('oura_2024-01-15_trends.csv'), 'text/csv');
    expect(res.status).toBe(200);
    expect(perMeasurement(res.body)).toEqual({
      'active-energy': [2, 0],
      'hrv-rmssd': [2, 0],
      'resting-heart-rate': [2, 0],
      'respiratory-rate': [2, 0],
      'sleep-duration': [2, 0],
      steps: [2, 0],
    });
    const hrv = await observations('code=https://hale.health/fhir/CodeSystem/observation-code|hrv-rmssd&_sort=date');
    expect(hrv[0]).toMatchObject({ valueQuantity: { value: 48, code: 'ms' }, method: { text: expect.any(String) } });
    const sleep = await observations('code=http://loinc.org|93832-4');
    const oura = sleep.find((o) => o.effectivePeriod?.start === '2024-01-14T23:30:00+01:00');
    expect(oura?.valueQuantity).toMatchObject({ value: 420, code: 'min' });
  });

  test('imports Withings weight.csv and bp.csv', async () => {
    const weight = await importFile(patientId, 'kind=withings', file('weight.csv'), 'text/csv');
    expect(perMeasurement(weight.body)).toEqual({ 'body-weight': [2, 0] });
    const bp = await importFile(patientId, 'kind=withings', file('bp.csv'), 'text/csv');
    expect(perMeasurement(bp.body)).toEqual({ 'blood-pressure': [1, 0], 'heart-rate': [1, 0] });
    expect(bp.body.parameter?.find((p) => p.name === 'rejection')?.part).toEqual([
      { name: 'line', valueInteger: 3 },
      { name: 'reason', valueString: 'a blood pressure without a numeric Systolic and Diastolic' },
    ]);
  });

  test('a malformed file answers 400 and stores nothing', async () => {
    const patient = (await s.create({ resourceType: 'Patient', name: [{ family: 'Broken' }] })).id;
    const xml = file('apple-health-export.xml').replace('</Correlation>', '</Corelation>');
    const res = await importFile(patient, 'kind=apple-health', xml, 'application/xml', s.systemToken);
    expect(res.status).toBe(400);
    expect(res.body.resourceType).toBe('OperationOutcome');
    expect(res.body.issue?.[0]?.details?.text).toMatch(/^line \d+: export\.xml is not well-formed XML/);
    expect(res.body.issue?.[1]?.details?.text).toBe('Nothing of this file was stored.');
    expect((await s.search(`Observation?subject=Patient/${patient}&_summary=count`)).total).toBe(0);

    const notCsv = await importFile(patient, 'kind=oura', 'day,score\n2024-01-15,80\n', 'text/csv', s.systemToken);
    expect(notCsv.status).toBe(400);
    expect(notCsv.body.issue?.[0]?.details?.text).toContain('not an Oura trends export');
  });

  test('a file that breaks after a committed batch answers 400 saying exactly what was stored', async () => {
    const patient = (await s.create({ resourceType: 'Patient', name: [{ family: 'Half' }] })).id;
    const record = (i: number): string =>
      `<Record type="HKQuantityTypeIdentifierHeartRate" sourceName="Watch" unit="count/min" ` +
      `startDate="2024-03-01 ${String(Math.floor(i / 60)).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}:00 +0000" ` +
      `endDate="2024-03-01 ${String(Math.floor(i / 60)).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}:00 +0000" value="70"/>`;
    const xml = `<?xml version="1.0"?>\n<HealthData locale="en">\n${Array.from({ length: 1200 }, (_, i) => record(i)).join('\n')}\n<Record type=oops/>\n</HealthData>`;
    const res = await importFile(patient, 'kind=apple-health', xml, 'application/xml', s.systemToken);
    expect(res.status).toBe(400);
    expect(res.body.issue?.[0]?.details?.text).toMatch(/^line 1203: /);
    expect(res.body.issue?.[1]?.details?.text).toMatch(
      /^Stored before the error: 1000 new Observations, 0 already stored/
    );
    expect((await s.search(`Observation?subject=Patient/${patient}&_summary=count`)).total).toBe(1000);
  });

  test("a patient app may not import into another patient's record (403), and nothing is read or stored", async () => {
    const res = await importFile(otherPatient, 'kind=withings', file('weight.csv'), 'text/csv');
    expect(res.status).toBe(403);
    expect(res.body.issue?.[0]?.code).toBe('forbidden');
    expect((await s.search(`Observation?subject=Patient/${otherPatient}&_summary=count`)).total).toBe(0);
  });

  test('refuses an unknown kind (400), a Content-Type the kind is not sent as (415) and an unknown patient (404)', async () => {
    expect((await importFile(patientId, 'kind=polar', 'x', 'text/csv')).status).toBe(400);
    const wrongType = await importFile(patientId, 'kind=apple-health', '<HealthData/>', 'application/fhir+json');
    expect(wrongType.status).toBe(415);
    const unknown = await importFile('no-such-patient', 'kind=withings', file('weight.csv'), 'text/csv', s.systemToken);
    expect(unknown.status).toBe(404);
  });

  test('a body past DEVICE_IMPORT_MAX_BYTES is refused with 413 from its declared length', async () => {
    const small = await startTestServer({ DEVICE_IMPORT_MAX_BYTES: '1kb' });
    try {
      const patient = (await small.create({ resourceType: 'Patient' })).id;
      const res = await fetch(`${small.base}/Patient/${patient}/$import-device?kind=apple-health`, {
        method: 'POST',
        headers: { authorization: `Bearer ${small.systemToken}`, 'content-type': 'application/xml' },
        body: file('apple-health-export.xml'),
      });
      expect(res.status).toBe(413);
      const outcome = (await res.json()) as OperationOutcome;
      expect(outcome.resourceType).toBe('OperationOutcome');
    } finally {
      await small.stop();
    }
  });

  test('the CapabilityStatement lists $import-device on Patient', async () => {
    const cs = (await s.get('metadata')).body as {
      rest: { resource: { type: string; operation?: { name: string }[] }[] }[];
    };
    const patient = cs.rest[0]?.resource.find((r) => r.type === 'Patient');
    expect(patient?.operation?.map((o) => o.name)).toContain('import-device');
    expect((await s.search('Device?_summary=count')).total).toBeGreaterThan(0);
  });
});
