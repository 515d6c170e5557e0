import type {
  Communication,
  DetectedIssue,
  Flag,
  GuidanceResponse,
  Observation,
  Parameters,
  Patient,
  PlanDefinition,
  Task,
} from '@medplum/fhirtypes';
import type { MockClient } from '@medplum/mock';
import type { ClinicalRulesResult } from './clinical-rules';
import { handler } from './clinical-rules';
import { handler as installRules } from './install-rules';
import { defaultRules } from './lib/rules/defaults';
import { bloodPressure, botEvent, createPatient, cronEvent, newMedplum, vital } from './lib/test-support';
import { EXT, SNOMED } from './lib/vocabulary';

const NOW = '2025-03-10T12:00:00.000Z';

let medplum: MockClient;
let patient: Patient & { id: string };

beforeEach(async () => {
  medplum = newMedplum();
  await installRules(medplum, botEvent(undefined));
  patient = await createPatient(medplum);
});

/** Stores the Observation and runs the bot on it, as the Observation subscription does. */
async function observe(obs: Observation, now = NOW): Promise<ClinicalRulesResult> {
  const stored = await medplum.createResource(obs);
  return handler(medplum, botEvent({ ...stored, now }));
}

const all = async <T extends 'Flag' | 'DetectedIssue' | 'GuidanceResponse' | 'Task' | 'Communication'>(type: T) =>
  medplum.searchResources(type, { _count: 100 });

function output(response: GuidanceResponse): Parameters | undefined {
  return response.contained?.find((c) => c.resourceType === 'Parameters');
}

describe('blood pressure at or above 140/90 twice in 7 days', () => {
  test('the first high reading is recorded but does not fire; the second raises a Flag and a DetectedIssue', async () => {
    const first = await observe(bloodPressure(patient, '2025-03-08T08:00:00Z', 150, 85));
    expect(first.evaluated.map((e) => e.triggered)).toEqual([false]);
    expect(await all('Flag')).toHaveLength(0);

    const second = await observe(bloodPressure(patient, '2025-03-10T08:00:00Z', 135, 95));
    expect(second.evaluated.map((e) => e.triggered)).toEqual([true]);
    const [flag] = (await all('Flag')) as Flag[];
    const [issue] = (await all('DetectedIssue')) as DetectedIssue[];
    expect(flag).toMatchObject({ status: 'active', subject: { reference: `Patient/${patient.id}` } });
    expect(flag?.code.text).toBe('Blood pressure at or above 140/90 twice in 7 days');
    expect(flag?.extension?.find((e) => e.url.endsWith('flag-detail'))?.valueReference?.reference).toBe(
      `DetectedIssue/${issue?.id}`
    );
    expect(issue).toMatchObject({
      status: 'final',
      severity: 'moderate',
      patient: { reference: `Patient/${patient.id}` },
    });
    expect(issue?.implicated).toHaveLength(2);
    expect(issue?.detail).toMatch(/2 of 2 readings in 7 days at or above 140\/90/);
  });

  test('each evaluation is a GuidanceResponse with the rule, the patient, whether it fired and the values seen', async () => {
    await observe(bloodPressure(patient, '2025-03-08T08:00:00Z', 150, 85));
    const result = await observe(bloodPressure(patient, '2025-03-10T08:00:00Z', 145, 92));
    const responses = (await all('GuidanceResponse')) as GuidanceResponse[];
    expect(responses).toHaveLength(2);
    const fired = responses.find((r) => `GuidanceResponse/${r.id}` === result.evaluated[0]?.guidanceResponse);
    expect(fired).toMatchObject({
      moduleCanonical: 'https://hale.health/fhir/PlanDefinition/bp-high|1.0.0',
      subject: { reference: `Patient/${patient.id}` },
      status: 'success',
    });
    const params = output(fired as GuidanceResponse)?.parameter ?? [];
    expect(params.find((p) => p.name === 'triggered')?.valueBoolean).toBe(true);
    const values = params.filter((p) => p.name === 'reading').map((p) => p.part?.map((x) => x.valueDecimal ?? null));
    expect(values).toEqual([
      [null, null, 150, 85],
      [null, null, 145, 92],
    ]);
    expect(params.filter((p) => p.name === 'action').map((p) => p.valueReference?.reference?.split('/')[0])).toEqual([
      'Flag',
      'DetectedIssue',
    ]);
  });

  test('processing the same Observation twice makes no second alert or GuidanceResponse, even after the Flag is resolved', async () => {
    await observe(bloodPressure(patient, '2025-03-08T08:00:00Z', 150, 85));
    const stored = await medplum.createResource(bloodPressure(patient, '2025-03-10T08:00:00Z', 150, 95));
    await handler(medplum, botEvent({ ...stored, now: NOW }));
    const [flag] = (await all('Flag')) as Flag[];
    await medplum.updateResource({ ...(flag as Flag), status: 'inactive' });
    await handler(medplum, botEvent({ ...stored, now: NOW }));
    expect(await all('Flag')).toHaveLength(1);
    expect(await all('DetectedIssue')).toHaveLength(1);
    expect(await all('GuidanceResponse')).toHaveLength(2);
  });

  test('a third high reading while the Flag is active points to it instead of raising another', async () => {
    await observe(bloodPressure(patient, '2025-03-07T08:00:00Z', 150, 85));
    await observe(bloodPressure(patient, '2025-03-08T08:00:00Z', 150, 85));
    const third = await observe(bloodPressure(patient, '2025-03-09T08:00:00Z', 160, 100));
    const [flag] = (await all('Flag')) as Flag[];
    expect(third.evaluated[0]?.actions).toEqual([`Flag/${flag?.id}`]);
    expect(await all('Flag')).toHaveLength(1);
  });

  test('two readings that fire at the same time (a synced batch, two workers) raise one Flag and DetectedIssue', async () => {
    await observe(bloodPressure(patient, '2025-03-07T08:00:00Z', 150, 85));
    const second = await medplum.createResource(bloodPressure(patient, '2025-03-08T08:00:00Z', 150, 85));
    const third = await medplum.createResource(bloodPressure(patient, '2025-03-09T08:00:00Z', 160, 100));
    const results = await Promise.all([second, third].map((o) => handler(medplum, botEvent({ ...o, now: NOW }))));
    expect(results.map((r) => r.evaluated[0]?.triggered)).toEqual([true, true]);
    expect(await all('Flag')).toHaveLength(1);
    expect(await all('DetectedIssue')).toHaveLength(1);
    expect(new Set(results.map((r) => r.evaluated[0]?.actions[0]))).toEqual(
      new Set([`Flag/${(await all('Flag'))[0]?.id}`])
    );
  });

  test('once the Flag is resolved, the next firing opens a new episode with a Flag of its own', async () => {
    await observe(bloodPressure(patient, '2025-03-07T08:00:00Z', 150, 85));
    await observe(bloodPressure(patient, '2025-03-08T08:00:00Z', 150, 85));
    const [first] = (await all('Flag')) as Flag[];
    await medplum.updateResource({ ...(first as Flag), status: 'inactive' });
    const next = await observe(bloodPressure(patient, '2025-03-09T08:00:00Z', 160, 100));
    const flags = (await all('Flag')) as Flag[];
    expect(flags.map((f) => f.status).sort()).toEqual(['active', 'inactive']);
    expect(next.evaluated[0]?.actions[0]).toBe(`Flag/${flags.find((f) => f.status === 'active')?.id}`);
  });

  test('a normal reading after two high ones does not fire', async () => {
    await observe(bloodPressure(patient, '2025-03-07T08:00:00Z', 150, 85));
    const [flag] = (await all('Flag')) as Flag[];
    expect(flag).toBeUndefined();
    await observe(bloodPressure(patient, '2025-03-08T08:00:00Z', 150, 85));
    await medplum.updateResource({ ...((await all('Flag'))[0] as Flag), status: 'inactive' });
    const normal = await observe(bloodPressure(patient, '2025-03-09T08:00:00Z', 120, 80));
    expect(normal.evaluated.map((e) => e.triggered)).toEqual([false]);
  });

  test('a delete event is not evaluated', async () => {
    const stored = await medplum.createResource(bloodPressure(patient, '2025-03-10T08:00:00Z', 190, 120));
    const event = { ...botEvent({ ...stored, now: NOW }), headers: { 'X-Hale-Interaction': 'delete' } };
    expect(await handler(medplum, event)).toMatchObject({ evaluated: [] });
  });

  test('a reading older than the window (a late sync or an import) is not evaluated', async () => {
    const old = await observe(bloodPressure(patient, '2025-02-01T08:00:00Z', 190, 120));
    expect(old.evaluated).toEqual([]);
  });

  test('preliminary readings and readings of other patients do not count', async () => {
    const other = await createPatient(medplum, { name: [{ family: 'Other' }] });
    await observe(bloodPressure(other, '2025-03-08T08:00:00Z', 150, 95));
    await observe({ ...bloodPressure(patient, '2025-03-08T09:00:00Z', 150, 95), status: 'preliminary' });
    const result = await observe(bloodPressure(patient, '2025-03-10T08:00:00Z', 150, 95));
    expect(result.evaluated.map((e) => e.triggered)).toEqual([false]);
  });
});

describe('other default rules', () => {
  test('fasting glucose above 126 mg/dL fires, converting mmol/L', async () => {
    const low = await observe(vital(patient, '1558-6', '2025-03-09T07:00:00Z', [6.5, 'mmol/L']));
    expect(low.evaluated.map((e) => e.triggered)).toEqual([false]);
    const high = await observe(vital(patient, '1558-6', '2025-03-10T07:00:00Z', [7.5, 'mmol/L']));
    expect(high.evaluated.map((e) => e.triggered)).toEqual([true]);
    expect(((await all('DetectedIssue')) as DetectedIssue[])[0]?.detail).toMatch(/above 126 mg\/dL/);
  });

  test('weight up 2 kg from the lowest of the last 3 days fires (critical); up 1 kg does not', async () => {
    await observe(vital(patient, '29463-7', '2025-03-08T07:00:00Z', [80, 'kg']));
    const small = await observe(vital(patient, '29463-7', '2025-03-09T07:00:00Z', [81, 'kg']));
    expect(small.evaluated.map((e) => e.triggered)).toEqual([false]);
    const gain = await observe(vital(patient, '29463-7', '2025-03-10T07:00:00Z', [180.8, '[lb_av]']));
    expect(gain.evaluated.map((e) => e.triggered)).toEqual([true]);
    expect(((await all('DetectedIssue')) as DetectedIssue[])[0]?.severity).toBe('high');
  });

  test('resting heart rate rising at 0.5/min a day or more over at least 7 readings suggests a visit', async () => {
    let last: ClinicalRulesResult | undefined;
    for (let day = 0; day < 7; day++) {
      const at = `2025-03-0${day + 3}T07:00:00Z`;
      last = await observe(vital(patient, '40443-4', at, [60 + day, '/min']), `2025-03-0${day + 3}T08:00:00Z`);
    }
    expect(last?.evaluated.map((e) => e.triggered)).toEqual([true]);
    const [task] = (await all('Task')) as Task[];
    expect(task).toMatchObject({
      status: 'requested',
      intent: 'proposal',
      for: { reference: `Patient/${patient.id}` },
    });
    expect(task?.code?.coding?.[0]?.code).toBe('suggest_visit');
  });

  test('a flat resting heart rate does not', async () => {
    let last: ClinicalRulesResult | undefined;
    for (let day = 0; day < 7; day++) {
      last = await observe(vital(patient, '40443-4', `2025-03-0${day + 3}T07:00:00Z`, [60 + (day % 2), '/min']));
    }
    expect(last?.evaluated.map((e) => e.triggered)).toEqual([false]);
  });
});

describe('missing blood pressure (daily run)', () => {
  async function hypertensive(name: string): Promise<Patient & { id: string }> {
    const p = await createPatient(medplum, { name: [{ family: name }] });
    await medplum.createResource({
      resourceType: 'Condition',
      subject: { reference: `Patient/${p.id}` },
      clinicalStatus: {
        coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }],
      },
      code: { coding: [{ system: SNOMED, code: '38341003' }] },
    });
    return p;
  }

  test('asks a patient with hypertension and no reading in 14 days to measure, once a day at most', async () => {
    const silent = await hypertensive('Silent');
    const measured = await hypertensive('Measured');
    await medplum.createResource(bloodPressure(measured, '2025-03-05T08:00:00Z', 128, 82));
    const result = await handler(medplum, cronEvent(NOW));
    expect(result.evaluated.map((e) => [e.patient, e.triggered]).sort()).toEqual(
      [
        [`Patient/${silent.id}`, true],
        [`Patient/${measured.id}`, false],
      ].sort()
    );
    const [task] = (await all('Task')) as Task[];
    expect(task).toMatchObject({
      for: { reference: `Patient/${silent.id}` },
      owner: { reference: `Patient/${silent.id}` },
      description: 'Please measure your blood pressure and record it in Hale.',
    });
    const [note] = (await all('Communication')) as Communication[];
    expect(note).toMatchObject({ status: 'preparation', recipient: [{ reference: `Patient/${silent.id}` }] });

    await handler(medplum, cronEvent(NOW));
    await handler(medplum, cronEvent('2025-03-11T12:00:00Z'));
    expect(await all('Task')).toHaveLength(1);
    expect(await all('Communication')).toHaveLength(1);
    expect(await all('GuidanceResponse')).toHaveLength(4);
  });

  test('patients without hypertension are not evaluated, and an Observation never runs a missing rule', async () => {
    const result = await handler(medplum, cronEvent(NOW));
    expect(result.evaluated).toEqual([]);
    const obs = await observe(bloodPressure(patient, '2025-03-10T08:00:00Z', 120, 80));
    expect(obs.evaluated.map((e) => e.rule)).toEqual([expect.stringContaining('PlanDefinition/')]);
    expect(obs.evaluated).toHaveLength(1);
  });

  test('Medplum cron passes the Bot as input; that is a cron run too', async () => {
    await hypertensive('Silent');
    const result = await handler(medplum, botEvent({ resourceType: 'Bot', id: 'b1', name: 'clinical-rules' }));
    expect(result.evaluated).toHaveLength(1);
  });
});

describe('custom rules', () => {
  async function addRule(change: (rule: PlanDefinition) => void): Promise<PlanDefinition> {
    const rule = defaultRules().find((r) => r.url?.endsWith('/fasting-glucose-high')) as PlanDefinition;
    const { id: _id, ...copy } = rule;
    copy.url = 'https://example.org/rules/custom';
    change(copy);
    return medplum.createResource(copy);
  }

  test('a rule with clinical-rule-patient applies to that patient only', async () => {
    const other = await createPatient(medplum, { name: [{ family: 'Other' }] });
    await addRule((r) => {
      r.extension = [{ url: EXT.rulePatient, valueReference: { reference: `Patient/${other.id}` } }];
    });
    const mine = await observe(vital(patient, '1558-6', '2025-03-10T07:00:00Z', [7.5, 'mmol/L']));
    const theirs = await observe(vital(other, '1558-6', '2025-03-10T07:00:00Z', [7.5, 'mmol/L']));
    expect([mine.evaluated.length, theirs.evaluated.length]).toEqual([1, 2]);
  });

  test('assign_content sends the patient the rule documentation as a notification Communication', async () => {
    await addRule((r) => {
      const action = r.action?.[0];
      if (action) {
        action.code = [
          { coding: [{ system: 'https://hale.health/fhir/CodeSystem/clinical-rule-action', code: 'assign_content' }] },
        ];
        action.documentation = [
          { type: 'documentation', display: 'About fasting glucose', url: 'https://example.org/glucose' },
        ];
      }
    });
    await observe(vital(patient, '1558-6', '2025-03-10T07:00:00Z', [140, 'mg/dL']));
    const [content] = (await all('Communication')) as Communication[];
    expect(content).toMatchObject({
      status: 'preparation',
      recipient: [{ reference: `Patient/${patient.id}` }],
      instantiatesCanonical: ['https://example.org/rules/custom|1.0.0'],
    });
    expect(content?.payload?.[0]?.contentAttachment).toEqual({
      url: 'https://example.org/glucose',
      title: 'About fasting glucose',
    });
  });

  test('a retired or malformed rule is not evaluated', async () => {
    await addRule((r) => {
      r.status = 'retired';
    });
    await addRule((r) => {
      delete r.action?.[0]?.input;
    });
    const result = await observe(vital(patient, '1558-6', '2025-03-10T07:00:00Z', [140, 'mg/dL']));
    expect(result.evaluated).toHaveLength(1);
  });
});

describe('a batch of readings (a history Bundle, for a Subscription with backport-max-count)', () => {
  /** Stores the Observations and runs the bot once on all of them, as Hale delivers a batching Subscription. */
  async function observeBatch(observations: Observation[], deleted: Observation[] = []): Promise<ClinicalRulesResult> {
    const stored = [];
    for (const obs of observations) {
      stored.push(await medplum.createResource(obs));
    }
    const entry = [
      ...stored.map((resource) => ({ resource, request: { method: 'POST' as const, url: 'Observation' } })),
      ...deleted.map((resource) => ({
        resource,
        request: { method: 'DELETE' as const, url: `Observation/${resource.id}` },
      })),
    ];
    return handler(medplum, botEvent({ resourceType: 'Bundle', type: 'history', entry, now: NOW }));
  }

  test('each reading is evaluated over its own window: the second high reading of the batch fires, once', async () => {
    const other = await createPatient(medplum, { name: [{ family: 'Tane' }] });
    const result = await observeBatch([
      bloodPressure(patient, '2025-03-08T08:00:00Z', 150, 85),
      bloodPressure(other, '2025-03-08T09:00:00Z', 150, 95),
      bloodPressure(patient, '2025-03-09T08:00:00Z', 145, 92),
      vital(other, '8867-4', '2025-03-09T09:00:00Z', [62, '/min']),
    ]);
    expect(result.evaluated.map((e) => [e.patient, e.triggered])).toEqual([
      [`Patient/${patient.id}`, false],
      [`Patient/${other.id}`, false],
      [`Patient/${patient.id}`, true],
    ]);
    const responses = (await all('GuidanceResponse')) as GuidanceResponse[];
    expect(responses).toHaveLength(3);
    expect(new Set(result.evaluated.map((e) => e.guidanceResponse))).toEqual(
      new Set(responses.map((r) => `GuidanceResponse/${r.id}`))
    );
    const flags = (await all('Flag')) as Flag[];
    expect(flags.map((f) => f.subject.reference)).toEqual([`Patient/${patient.id}`]);
    expect(result.evaluated[2]?.actions).toContain(`Flag/${flags[0]?.id}`);
  });

  test('the same batch delivered again writes nothing new and answers what it did', async () => {
    const readings = [
      bloodPressure(patient, '2025-03-08T08:00:00Z', 150, 85),
      bloodPressure(patient, '2025-03-09T08:00:00Z', 145, 92),
    ];
    const stored = [];
    for (const obs of readings) {
      stored.push(await medplum.createResource(obs));
    }
    const batch = {
      resourceType: 'Bundle',
      type: 'history',
      entry: [...stored, stored[1]].map((resource) => ({ resource, request: { method: 'PUT', url: 'Observation' } })),
      now: NOW,
    };
    const first = await handler(medplum, botEvent(batch));
    // The reading that appears twice in the batch is evaluated once.
    expect(first.evaluated.map((e) => e.triggered)).toEqual([false, true, true]);
    expect(first.evaluated[1]).toEqual(first.evaluated[2]);
    const again = await handler(medplum, botEvent(batch));
    expect(again.evaluated).toEqual(first.evaluated);
    expect(await all('GuidanceResponse')).toHaveLength(2);
    expect(await all('Flag')).toHaveLength(1);
    expect(await all('DetectedIssue')).toHaveLength(1);
  });

  test('a later firing in the batch points to the episode an earlier one opened; every reference is stored', async () => {
    const result = await observeBatch([
      bloodPressure(patient, '2025-03-08T08:00:00Z', 150, 85),
      bloodPressure(patient, '2025-03-09T08:00:00Z', 145, 92),
      bloodPressure(patient, '2025-03-09T20:00:00Z', 160, 99),
    ]);
    expect(result.evaluated.map((e) => e.triggered)).toEqual([false, true, true]);
    const [flag, ...moreFlags] = (await all('Flag')) as Flag[];
    const issues = (await all('DetectedIssue')) as DetectedIssue[];
    expect(moreFlags).toHaveLength(0);
    expect(issues).toHaveLength(1);
    expect(result.evaluated[1]?.actions).toEqual([`Flag/${flag?.id}`, `DetectedIssue/${issues[0]?.id}`]);
    expect(result.evaluated[2]?.actions).toEqual([`Flag/${flag?.id}`]);
    // The transaction turned the batch's urn:uuid names into the stored resources' references.
    expect(JSON.stringify([flag, issues, await all('GuidanceResponse')])).not.toContain('urn:uuid');
    expect(flag?.extension?.find((e) => e.valueReference)?.valueReference?.reference).toBe(
      `DetectedIssue/${issues[0]?.id}`
    );
    const responses = (await all('GuidanceResponse')) as GuidanceResponse[];
    const last = responses.find((r) => `GuidanceResponse/${r.id}` === result.evaluated[2]?.guidanceResponse);
    const actions = output(last as GuidanceResponse)?.parameter?.filter((p) => p.name === 'action');
    expect(actions?.map((a) => a.valueReference?.reference)).toEqual([`Flag/${flag?.id}`]);
  });

  test('deleted resources and other resource types in the batch are not evaluated', async () => {
    const gone = await medplum.createResource(bloodPressure(patient, '2025-03-09T08:00:00Z', 170, 110));
    const result = await observeBatch([], [gone]);
    expect(result.evaluated).toEqual([]);
    expect(await all('GuidanceResponse')).toHaveLength(0);
  });
});
