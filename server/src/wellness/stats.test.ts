import type { OperationOutcome, Parameters } from '@medplum/fhirtypes';
import type { TestServer } from '../test/test-server';
import { startTestServer } from '../test/test-server';
import type { Series } from './series-fixture';
import { createSeries } from './series-fixture';

let s: TestServer;
let series: Series;

beforeAll(async () => {
  s = await startTestServer();
  series = await createSeries(s);
});

afterAll(async () => {
  await s?.stop();
});

const HR = 'http://loinc.org|8867-4';
const BP = 'http://loinc.org|85354-9';

/** Each statistics parameter as a flat row: [code, component, unit, period start, count, min, max, mean, median]. */
function rows(body: Parameters): unknown[][] {
  return (body.parameter ?? []).map((p) => {
    const part = (name: string): NonNullable<Parameters['parameter']>[number] | undefined =>
      p.part?.find((x) => x.name === name);
    return [
      part('code')?.valueCoding?.code,
      part('component')?.valueCoding?.code,
      part('unit')?.valueCode,
      part('period')?.valuePeriod?.start,
      part('count')?.valueInteger,
      part('minimum')?.valueDecimal,
      part('maximum')?.valueDecimal,
      part('average')?.valueDecimal,
      part('median')?.valueDecimal,
    ];
  });
}

async function stats(query: string, as: keyof Series['as'] | 'system' = 'system'): Promise<unknown[][]> {
  const headers = as === 'system' ? undefined : series.as[as];
  const res = await s.get<Parameters>(`Observation/$stats?patient=${series.patientId}&${query}`, headers);
  expect([res.status, res.body.resourceType]).toEqual([200, 'Parameters']);
  return rows(res.body);
}

describe('Observation/$stats', () => {
  test('count, minimum, maximum, average and median of a code over a period (entered-in-error and others left out)', async () => {
    expect(await stats(`code=${HR}&start=2026-01-01&end=2026-01-31`)).toEqual([
      // 60, 70, 80, 90 and the pulse of the third blood pressure (75).
      ['8867-4', undefined, '/min', '2026-01-01', 5, 60, 90, 75, 75],
    ]);
    expect(await stats(`code=${HR}`)).toEqual([['8867-4', undefined, '/min', undefined, 6, 60, 100, 79.1667, 77.5]]);
  });

  test('per day, week and month buckets', async () => {
    expect(await stats(`code=${HR}&start=2026-01-01&end=2026-02-28&interval=day`)).toEqual([
      ['8867-4', undefined, '/min', '2026-01-01T00:00:00.000Z', 2, 60, 70, 65, 65],
      ['8867-4', undefined, '/min', '2026-01-02T00:00:00.000Z', 1, 80, 80, 80, 80],
      ['8867-4', undefined, '/min', '2026-01-03T00:00:00.000Z', 2, 75, 90, 82.5, 82.5],
      ['8867-4', undefined, '/min', '2026-02-01T00:00:00.000Z', 1, 100, 100, 100, 100],
    ]);
    expect(await stats(`code=${HR}&start=2026-01-01&end=2026-02-28&interval=month`)).toEqual([
      ['8867-4', undefined, '/min', '2026-01-01T00:00:00.000Z', 5, 60, 90, 75, 75],
      ['8867-4', undefined, '/min', '2026-02-01T00:00:00.000Z', 1, 100, 100, 100, 100],
    ]);
    // ISO weeks start on Monday: 2025-12-29 holds 1–4 January 2026.
    expect((await stats(`code=${HR}&interval=week`)).map((r) => [r[3], r[4]])).toEqual([
      ['2025-12-29T00:00:00.000Z', 5],
      ['2026-01-26T00:00:00.000Z', 1],
    ]);
  });

  test('buckets are days of the time zone asked for', async () => {
    // In Auckland (UTC+13) the 20:00Z reading of 1 January is on the 2nd.
    expect(
      (await stats(`code=${HR}&end=2026-01-31&interval=day&timezone=Pacific/Auckland`)).map((r) => [r[3], r[4]])
    ).toEqual([
      ['2025-12-31T11:00:00.000Z', 1],
      ['2026-01-01T11:00:00.000Z', 2],
      ['2026-01-02T11:00:00.000Z', 2],
    ]);
  });

  test('a blood pressure code gives a series per component; systolic alone finds the panels too', async () => {
    expect(await stats(`code=${BP}`)).toEqual([
      ['85354-9', '8462-4', 'mm[Hg]', undefined, 3, 80, 90, 85, 85],
      ['85354-9', '8480-6', 'mm[Hg]', undefined, 3, 120, 140, 130, 130],
      ['85354-9', '8867-4', '/min', undefined, 1, 75, 75, 75, 75],
    ]);
    expect(await stats('code=8480-6')).toEqual([['8480-6', undefined, 'mm[Hg]', undefined, 3, 120, 140, 130, 130]]);
  });

  test('normalised values (a weight written in [lb_av]) and valueInteger measurements (mood)', async () => {
    expect(
      await stats('code=http://loinc.org|29463-7,https://hale.health/fhir/CodeSystem/observation-code|mood')
    ).toEqual([
      ['29463-7', undefined, 'kg', undefined, 1, 72.57, 72.57, 72.57, 72.57],
      ['mood', undefined, undefined, undefined, 3, 3, 5, 4, 4],
    ]);
  });

  test('statistic chooses the statistics; POST takes a Parameters body with a period', async () => {
    const res = await s.post<Parameters>('Observation/$stats', {
      resourceType: 'Parameters',
      parameter: [
        { name: 'subject', valueString: `Patient/${series.patientId}` },
        { name: 'coding', valueCoding: { system: 'http://loinc.org', code: '8867-4' } },
        { name: 'period', valuePeriod: { start: '2026-01-02T00:00:00Z', end: '2026-01-03T00:00:00Z' } },
        { name: 'statistic', valueCode: 'count' },
        { name: 'statistic', valueCode: 'median' },
      ],
    });
    expect(res.body.parameter?.[0]?.part?.map((p) => p.name)).toEqual(['code', 'unit', 'period', 'count', 'median']);
    expect(rows(res.body)[0]?.[4]).toBe(1);
  });

  test('the patient app sees statistics over its whole record', async () => {
    expect(await stats(`code=${HR}`, 'patientApp')).toEqual(await stats(`code=${HR}`));
  });

  test('a provider with a vitals grant for part of January sees statistics over the shared readings only', async () => {
    expect(await stats(`code=${HR}`, 'januaryVitals')).toEqual([
      // 80 (2 January) and 90 and the pulse 75 (3 January); not 1 January, not February.
      ['8867-4', undefined, '/min', undefined, 3, 75, 90, 81.6667, 80],
    ]);
    expect((await stats(`code=${BP}`, 'januaryVitals')).map((r) => [r[1], r[4]])).toEqual([
      ['8462-4', 2],
      ['8480-6', 2],
      ['8867-4', 1],
    ]);
  });

  test('a provider without a vitals grant gets no statistics, as a search would give no readings', async () => {
    expect(await stats(`code=${HR}`, 'labsOnly')).toEqual([]);
    expect(await stats(`code=${HR}`, 'noGrant')).toEqual([]);
    expect(await stats('code=http://loinc.org|2339-0', 'labsOnly')).toEqual([
      ['2339-0', undefined, 'mg/dL', undefined, 1, 95, 95, 95, 95],
    ]);
  });

  test('a token without access to Observation is refused (403)', async () => {
    const res = await s.get(`Observation/$stats?patient=${series.patientId}&code=${HR}`, series.as.noObservationScope);
    expect(res.status).toBe(403);
  });

  test.each([
    ['no patient', `Observation/$stats?code=${HR}`, /patient/],
    ['no code', 'Observation/$stats?patient=x', /code/],
    ['a bad interval', 'Observation/$stats?patient=x&code=a&interval=hour', /interval/],
    ['a bad time zone', 'Observation/$stats?patient=x&code=a&timezone=Mars/Olympus', /timezone/],
    ['a bad start', 'Observation/$stats?patient=x&code=a&start=yesterday', /start/],
    ['an unknown statistic', 'Observation/$stats?patient=x&code=a&statistic=mode', /statistic/],
    ['an unknown parameter', 'Observation/$stats?patient=x&code=a&foo=1', /foo/],
  ])('answers 400 for %s, naming the parameter', async (_name, path, text) => {
    const res = await s.get<OperationOutcome>(path);
    expect([res.status, res.body.issue?.[0]?.details?.text]).toEqual([400, expect.stringMatching(text)]);
  });
});
