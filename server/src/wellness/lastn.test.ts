import type { Bundle, OperationOutcome } from '@medplum/fhirtypes';
import type { TestServer } from '../test/test-server';
import { startTestServer } from '../test/test-server';
import { validReading } from './examples';
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

/** The fixture names of the Observations returned, in the Bundle's order. */
function names(bundle: Bundle): string[] {
  const byId = new Map(Object.entries(series.ids).map(([name, id]) => [id, name]));
  return (bundle.entry ?? []).map((e) => byId.get(e.resource?.id ?? '') ?? `?${e.resource?.id}`);
}

async function lastn(query: string, as?: keyof Series['as']): Promise<string[]> {
  const res = await s.get<Bundle>(`Observation/$lastn?patient=${series.patientId}&${query}`, as && series.as[as]);
  expect([res.status, res.body.type]).toEqual([200, 'searchset']);
  expect(res.body.total).toBe(res.body.entry?.length ?? 0);
  return names(res.body);
}

describe('Observation/$lastn', () => {
  test('the most recent reading per code, newest first; max asks for more', async () => {
    expect(await lastn('code=http://loinc.org|8867-4,http://loinc.org|29463-7')).toEqual(['hr5', 'weight']);
    expect(await lastn('code=http://loinc.org|8867-4,http://loinc.org|29463-7&max=3')).toEqual([
      'hr5',
      'hr4',
      'hrError',
      'weight',
    ]);
  });

  test('the other search parameters narrow what is grouped (status, date)', async () => {
    expect(await lastn('code=8867-4&max=3&status=final&date=lt2026-01-31')).toEqual(['hr4', 'hr3', 'hr2']);
  });

  test('with only a category every code is a group (in system|code order)', async () => {
    expect(await lastn('category=vital-signs')).toEqual(['weight', 'bp3', 'hr5']);
    expect(await lastn('category=laboratory&max=5')).toEqual(['glucose']);
  });

  test('readings tied at the last place are all returned', async () => {
    const at = '2026-03-01T08:00:00Z';
    const a = await s.create(validReading('respiratory-rate', series.patientId, at));
    const b = await s.create(validReading('respiratory-rate', series.patientId, at));
    series.ids.rrA = a.id;
    series.ids.rrB = b.id;
    expect((await lastn('code=9279-1')).sort()).toEqual(['rrA', 'rrB']);
  });

  test('a provider with a vitals grant for part of January sees the latest of what is shared', async () => {
    expect(await lastn('code=8867-4&max=3', 'januaryVitals')).toEqual(['hr4', 'hrError', 'hr3']);
    expect(await lastn('category=vital-signs', 'januaryVitals')).toEqual(['weight', 'bp3', 'hr4']);
  });

  test('a provider without a grant gets an empty Bundle, as a search would', async () => {
    expect(await lastn('category=vital-signs', 'noGrant')).toEqual([]);
    expect(await lastn('category=vital-signs', 'labsOnly')).toEqual([]);
    expect(await lastn('category=laboratory', 'labsOnly')).toEqual(['glucose']);
  });

  test('the patient app sees its own record; a token without Observation access is refused', async () => {
    expect(await lastn('code=8867-4', 'patientApp')).toEqual(['hr5']);
    const res = await s.get(`Observation/$lastn?patient=${series.patientId}&code=8867-4`, series.as.noObservationScope);
    expect(res.status).toBe(403);
  });

  test.each([
    ['no patient', 'Observation/$lastn?code=8867-4', /patient or subject/],
    ['neither code nor category', 'Observation/$lastn?patient=x', /category or code/],
    ['max 0', 'Observation/$lastn?patient=x&code=a&max=0', /max/],
    ['_sort', 'Observation/$lastn?patient=x&code=a&_sort=date', /_sort/],
    ['two code parameters', 'Observation/$lastn?patient=x&code=a&code=b', /one code/],
  ])('answers 400 for %s', async (_name, path, text) => {
    const res = await s.get<OperationOutcome>(path);
    expect([res.status, res.body.issue?.[0]?.details?.text]).toEqual([400, expect.stringMatching(text)]);
  });

  test('the CapabilityStatement lists $lastn and $stats on Observation', async () => {
    const cs = await s.get<{ rest: { resource: { type: string; operation?: { name: string }[] }[] }[] }>('metadata');
    const observation = cs.body.rest[0]?.resource.find((r) => r.type === 'Observation');
    expect(observation?.operation?.map((o) => o.name)).toEqual(expect.arrayContaining(['lastn', 'stats']));
  });
});
