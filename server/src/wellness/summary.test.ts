import type { Bundle, Parameters, ParametersParameter } from '@medplum/fhirtypes';
import type { TestServer } from '../test/test-server';
import { startTestServer } from '../test/test-server';
import type { Series } from './series-fixture';
import { createSeries } from './series-fixture';
import { CARE_PLAN_PHASE_EXTENSION } from './summary';

let s: TestServer;
let series: Series;
const LOINC = 'http://loinc.org';

beforeAll(async () => {
  s = await startTestServer();
  series = await createSeries(s);
  const subject = { reference: `Patient/${series.patientId}` };
  await s.create({
    resourceType: 'Goal',
    lifecycleStatus: 'active',
    description: { text: 'Weigh 70 kg or less' },
    subject,
    target: [
      {
        measure: { coding: [{ system: LOINC, code: '29463-7' }] },
        detailQuantity: { value: 70, comparator: '<=', unit: 'kg', system: 'http://unitsofmeasure.org', code: 'kg' },
      },
    ],
  });
  await s.create({ resourceType: 'Goal', lifecycleStatus: 'completed', description: { text: 'Old goal' }, subject });
  await s.create({
    resourceType: 'CarePlan',
    status: 'active',
    intent: 'plan',
    subject,
    activity: [
      { detail: { status: 'completed', description: 'Baseline readings' } },
      {
        extension: [{ url: CARE_PLAN_PHASE_EXTENSION, valueString: 'Weeks 1-4: build the habit' }],
        detail: { status: 'in-progress', description: 'Daily walks' },
      },
      { detail: { status: 'not-started', description: 'Weeks 5-8' } },
    ],
  });
  await s.create({ resourceType: 'Flag', status: 'active', code: { text: 'High blood pressure' }, subject });
  await s.create({ resourceType: 'Flag', status: 'inactive', code: { text: 'Resolved' }, subject });
  const thread = await s.create({ resourceType: 'Communication', status: 'in-progress', subject });
  const message = {
    resourceType: 'Communication' as const,
    status: 'completed' as const,
    subject,
    recipient: [subject],
  };
  await s.create({ ...message, partOf: [{ reference: `Communication/${thread.id}` }] });
  await s.create({
    ...message,
    partOf: [{ reference: `Communication/${thread.id}` }],
    received: '2026-01-01T00:00:00Z',
  });
  const participant = [{ actor: subject, status: 'accepted' as const }];
  await s.create({
    resourceType: 'Appointment',
    status: 'booked',
    start: '2999-01-01T09:00:00Z',
    end: '2999-01-01T09:30:00Z',
    participant,
  });
  await s.create({
    resourceType: 'Appointment',
    status: 'booked',
    start: '2001-01-01T09:00:00Z',
    end: '2001-01-01T09:30:00Z',
    participant,
  });
});

afterAll(async () => {
  await s?.stop();
});

async function summary(as?: keyof Series['as']): Promise<Parameters> {
  const res = await s.get<Parameters>(`Patient/${series.patientId}/$summary`, as && series.as[as]);
  expect(res.status).toBe(200);
  return res.body;
}

const all = (p: Parameters, name: string): ParametersParameter[] => (p.parameter ?? []).filter((x) => x.name === name);
const vitalIds = (p: Parameters): string[] =>
  ((all(p, 'vitals')[0]?.resource as Bundle | undefined)?.entry ?? []).map((e) => e.resource?.id ?? '');
const withheld = (p: Parameters): string[] => all(p, 'withheld').map((x) => x.valueCoding?.code ?? '');

describe('Patient/$summary', () => {
  test('the dashboard in one request: latest vitals, active goals with progress, care plan phase, alerts, appointments', async () => {
    const body = await summary();
    const vitals = vitalIds(body);
    expect(vitals).toEqual(expect.arrayContaining([series.ids.hr5, series.ids.weight, series.ids.bp3]));
    expect(vitals).not.toContain(series.ids.hr4);
    expect(vitals).not.toContain(series.ids.glucose); // a lab, not a vital
    const goals = all(body, 'goal');
    expect(goals).toHaveLength(1);
    const progress = goals[0]?.part?.find((x) => x.name === 'progress')?.part ?? [];
    expect(progress.find((x) => x.name === 'latest')?.valueReference?.reference).toBe(
      `Observation/${series.ids.weight}`
    );
    // 160 lb is stored as 72.57 kg: above the target of at most 70 kg.
    expect(progress.find((x) => x.name === 'value')?.valueQuantity?.code).toBe('kg');
    expect(progress.find((x) => x.name === 'achieved')?.valueBoolean).toBe(false);
    const plan = all(body, 'carePlan')[0]?.part ?? [];
    expect(plan.find((x) => x.name === 'phase')?.valueString).toBe('Weeks 1-4: build the habit');
    expect(all(body, 'alert').map((x) => (x.resource as { status?: string }).status)).toEqual(['active']);
    expect(all(body, 'appointment').map((x) => (x.resource as { start?: string }).start)).toEqual([
      '2999-01-01T09:00:00Z',
    ]);
    expect(all(body, 'unreadMessages')[0]?.valueInteger).toBe(1);
    expect(withheld(body)).toEqual([]);
  });

  test('the patient sees their whole dashboard, nothing withheld', async () => {
    const body = await summary('patientApp');
    expect(vitalIds(body)).toContain(series.ids.hr5);
    expect(withheld(body)).toEqual([]);
  });

  test('a provider with a January vitals grant sees the shared readings only, and is told what is withheld', async () => {
    const body = await summary('januaryVitals');
    expect(vitalIds(body)).toContain(series.ids.hr4);
    expect(vitalIds(body)).not.toContain(series.ids.hr5);
    expect(all(body, 'goal')).toEqual([]);
    expect(all(body, 'carePlan')).toEqual([]);
    expect(withheld(body)).toEqual(expect.arrayContaining(['labs', 'care-plans', 'medications']));
    expect(withheld(body)).not.toContain('vitals');
  });

  test('a provider with a labs grant gets no vitals and is told vitals are withheld', async () => {
    const body = await summary('labsOnly');
    expect(vitalIds(body)).toEqual([]);
    expect(withheld(body)).toContain('vitals');
    expect(withheld(body)).not.toContain('labs');
  });

  test('a provider with no grant gets 404, as for reading the patient', async () => {
    const res = await s.get(`Patient/${series.patientId}/$summary`, series.as.noGrant);
    expect(res.status).toBe(404);
  });
});
