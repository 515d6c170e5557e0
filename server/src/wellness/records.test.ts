import type { Goal, Observation, OperationOutcome, Parameters, Resource } from '@medplum/fhirtypes';
import { loadConfig } from '../config';
import { account } from '../test/consent-fixtures';
import type { TestServer } from '../test/test-server';
import { startTestServer } from '../test/test-server';
import { validReading } from './examples';
import type { RecordKey, RecordRefs } from './record-examples';
import { RECORD_BREAKS, validRecord } from './record-examples';
import { RECORD_PROFILES } from './records';

const keys = Object.keys(RECORD_PROFILES) as RecordKey[];
const breaks = keys.flatMap((key) => RECORD_BREAKS[key].map((b) => [key, b.what, b] as const));

describe('care-record profiles at write', () => {
  let s: TestServer;
  let refs: RecordRefs;
  let patientApp: Record<string, string>;

  beforeAll(async () => {
    s = await startTestServer();
    const patientId = (await s.create({ resourceType: 'Patient', name: [{ family: 'Parata' }] })).id;
    const conditionId = (
      await s.create({
        resourceType: 'Condition',
        subject: { reference: `Patient/${patientId}` },
        code: { coding: [{ system: 'http://snomed.info/sct', code: '37796009', display: 'Migraine' }] },
      })
    ).id;
    const observationId = (await s.create(validReading('resting-heart-rate', patientId))).id;
    refs = { patientId, conditionId, observationId };
    const accountId = await account(s, ['patient'], { type: 'Patient', id: patientId });
    patientApp = {
      authorization: `Bearer ${await s.token({ scopes: ['patient/*.cruds'], accountId, patient: patientId })}`,
    };
  });

  afterAll(async () => {
    await s?.stop();
  });

  const claiming = (r: Resource, url: string): Resource => ({ ...r, meta: { profile: [url] } });

  async function rejectedAt(r: Resource, headers?: Record<string, string>): Promise<string[]> {
    const res = await s.post<OperationOutcome>(r.resourceType, r, headers);
    expect([res.status, res.body.resourceType]).toEqual([400, 'OperationOutcome']);
    return [...new Set((res.body.issue ?? []).flatMap((i) => i.expression ?? []))].sort();
  }

  test.each(keys)('%s: a conformant resource claiming the profile is stored (201)', async (key) => {
    const r = validRecord(key, refs);
    const res = await s.post(r.resourceType, claiming(r, RECORD_PROFILES[key]));
    expect([res.status, res.body.issue]).toEqual([201, undefined]);
  });

  test.each(breaks)('%s with %s answers 400 naming the element', async (key, _what, broken) => {
    const r = broken.change(claiming(validRecord(key, refs), RECORD_PROFILES[key]));
    expect(await rejectedAt(r)).toEqual(broken.elements);
  });

  test.each(keys)('%s: a patient app is held to the profile without claiming it', async (key) => {
    const good = await s.post<Resource>(validRecord(key, refs).resourceType, validRecord(key, refs), patientApp);
    expect([good.status, good.body.meta?.profile]).toEqual([201, [RECORD_PROFILES[key]]]);
  });

  test.each(breaks)('%s with %s from a patient app answers 400 without a claim', async (key, _what, broken) => {
    expect(await rejectedAt(broken.change(validRecord(key, refs)), patientApp)).toEqual(broken.elements);
  });

  test('a system token (an EHR import) may store a goal without targets, and nothing is stamped', async () => {
    const { target: _omit, ...goal } = validRecord('goal', refs) as Goal;
    const res = await s.post<Goal>('Goal', goal);
    expect([res.status, res.body.meta?.profile]).toEqual([201, undefined]);
  });

  test('an unflagged lab result gets H from its reference range, and the flagged result conforms', async () => {
    const res = await s.post<Observation>('Observation', validRecord('labResult', refs), patientApp);
    expect([res.status, res.body.meta?.profile, res.body.interpretation?.[0]?.coding?.[0]?.code]).toEqual([
      201,
      [RECORD_PROFILES.labResult],
      'H',
    ]);
  });

  test("a patient app's update that moves a lab result out of laboratory drops the stamped claim; a create keeps it", async () => {
    const stored = await s.post<Observation>('Observation', validRecord('labResult', refs), patientApp);
    const survey = [
      { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'survey' }] },
    ];
    const moved = await s.put<Observation>(
      `Observation/${stored.body.id}`,
      { ...stored.body, category: survey },
      patientApp
    );
    expect([moved.status, moved.body.meta?.profile]).toEqual([200, undefined]);
    const claimed = claiming(
      { ...validRecord('labResult', refs), category: survey } as Observation,
      RECORD_PROFILES.labResult
    );
    expect(await rejectedAt(claimed, patientApp)).toEqual(['Observation.category[0]']);
  });

  test("a patient app's blood glucose (category laboratory) is held to its measurement profile, and conforms to hale-lab-result", async () => {
    const reading = validReading('blood-glucose', refs.patientId);
    const res = await s.post<Observation>('Observation', reading, patientApp);
    expect([res.status, res.body.meta?.profile]).toEqual([
      201,
      ['https://hale.health/fhir/StructureDefinition/hale-blood-glucose'],
    ]);
    const claimed = await s.post('Observation', claiming(reading, RECORD_PROFILES.labResult), patientApp);
    expect([claimed.status, claimed.body.issue]).toEqual([201, undefined]);
  });

  test("Patient/$summary reads a hale-goal's progress", async () => {
    await s.post('Observation', validReading('body-weight', refs.patientId, '2026-03-03T07:00:00Z'));
    const goal = await s.post<Goal>('Goal', claiming(validRecord('goal', refs), RECORD_PROFILES.goal));
    expect(goal.status).toBe(201);
    const summary = await s.get<Parameters>(`Patient/${refs.patientId}/$summary`);
    const part = summary.body.parameter?.find((p) => p.name === 'goal' && p.part?.[0]?.resource?.id === goal.body.id);
    const progress = part?.part?.find((p) => p.name === 'progress')?.part ?? [];
    expect(progress.find((p) => p.name === 'achieved')?.valueBoolean).toBe(false);
    expect(progress.find((p) => p.name === 'value')?.valueQuantity?.code).toBe('kg');
  });
});

describe('REQUIRE_PROFILES', () => {
  test('by default names every type with a Hale profile to require', () => {
    expect(loadConfig({}).requireProfiles).toEqual(['Observation', 'Goal', 'CarePlan', 'DiagnosticReport']);
  });

  test('refuses a type Hale has no profile to require', () => {
    expect(() => loadConfig({ REQUIRE_PROFILES: 'Observation,Patient' })).toThrow(/REQUIRE_PROFILES/);
  });
});
