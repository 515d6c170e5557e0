import type {
  AuditEvent,
  Bundle,
  CareTeam,
  Consent,
  OperationOutcome,
  Parameters,
  ParametersParameter,
  Patient,
  Task,
} from '@medplum/fhirtypes';
import { account, observation, sharingConsent, userToken } from '../../test/consent-fixtures';
import type { TestServer } from '../../test/test-server';
import { startTestServer } from '../../test/test-server';

let s: TestServer;
let alice: string;
let patientToken: string;
const ids: Record<string, string> = {};
const as = (token: string) => ({ authorization: `Bearer ${token}` });

interface Provider {
  ref: string;
  token: string;
}

async function provider(name: string): Promise<Provider> {
  const p = await s.create({ resourceType: 'Practitioner', name: [{ family: name }] });
  return {
    ref: `Practitioner/${p.id}`,
    token: await userToken(s, await account(s, ['provider'], { type: 'Practitioner', id: p.id })),
  };
}

const params = (parameter: ParametersParameter[]): Parameters => ({ resourceType: 'Parameters', parameter });
const out = (p: Parameters | OperationOutcome, name: string): any =>
  (p as Parameters).parameter?.find((x) => x.name === name)?.resource;

function share(parameter: ParametersParameter[], token = patientToken) {
  return s.post<Parameters | OperationOutcome>(`Patient/${alice}/$share`, params(parameter), as(token));
}

async function visible(token: string, type: string, id: string): Promise<number> {
  return (await s.get(`${type}/${id}`, as(token))).status;
}

async function observationsSeen(token: string): Promise<string[]> {
  const b = (await s.get<Bundle>(`Observation?patient=${alice}`, as(token))).body;
  return (b.entry ?? []).map((e) => e.resource?.id as string).sort();
}

beforeAll(async () => {
  s = await startTestServer();
  alice = (await s.create<Patient>({ resourceType: 'Patient', name: [{ family: 'Sharer', given: ['Alice'] }] })).id;
  patientToken = await userToken(s, await account(s, ['patient'], { type: 'Patient', id: alice }));
  ids.vitals = (await s.create(observation(alice, 'vital-signs', '2026-10-10'))).id;
  ids.lab = (await s.create(observation(alice, 'laboratory', '2026-10-12'))).id;
  ids.condition = (
    await s.create({ resourceType: 'Condition', subject: { reference: `Patient/${alice}` }, code: { text: 'Asthma' } })
  ).id;
}, 60_000);

afterAll(async () => {
  await s?.stop();
});

describe('$share', () => {
  test('creates an active relationship and Consent; the provider then sees exactly the shared categories', async () => {
    const dr = await provider('Vitals');
    expect(await visible(dr.token, 'Observation', ids.vitals as string)).toBe(404);
    const res = await share([
      { name: 'actor', valueReference: { reference: dr.ref } },
      { name: 'category', valueCode: 'vitals' },
      { name: 'type', valueCode: 'temporary' },
      { name: 'duration', valueInteger: 10 },
    ]);
    expect(res.status).toBe(200);
    const team: CareTeam = out(res.body, 'careTeam');
    const consent: Consent = out(res.body, 'consent');
    expect(team.status).toBe('active');
    expect(team.category?.[0]?.coding?.[0]?.code).toBe('temporary');
    expect(team.participant?.[0]?.member?.reference).toBe(dr.ref);
    expect(consent.status).toBe('active');
    expect(consent.provision?.actor?.[0]?.reference.reference).toBe(`CareTeam/${team.id}`);
    expect(consent.provision?.class?.map((c) => c.code)).toEqual(['vitals']);
    const days = (Date.parse(consent.provision?.period?.end as string) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(9.9);
    expect(days).toBeLessThan(10.1);

    expect(await observationsSeen(dr.token)).toEqual([ids.vitals]);
    expect(await visible(dr.token, 'Observation', ids.lab as string)).toBe(404);
    expect(await visible(dr.token, 'Condition', ids.condition as string)).toBe(404);
    expect(await visible(dr.token, 'Patient', alice)).toBe(200);
  });

  test('a snapshot share shows exactly the listed resource', async () => {
    const dr = await provider('Snapshot');
    const res = await share([
      { name: 'actor', valueReference: { reference: dr.ref } },
      { name: 'type', valueCode: 'one-off' },
      { name: 'resource', valueReference: { reference: `Observation/${ids.lab}` } },
    ]);
    expect(res.status).toBe(200);
    const consent: Consent = out(res.body, 'consent');
    expect(consent.provision?.class).toBeUndefined();
    expect(consent.provision?.data).toEqual([
      { meaning: 'instance', reference: { reference: `Observation/${ids.lab}` } },
    ]);
    expect(await observationsSeen(dr.token)).toEqual([ids.lab]);
    expect(await visible(dr.token, 'Condition', ids.condition as string)).toBe(404);
  });

  test("a favorite permanent provider becomes the patient's general practitioner", async () => {
    const dr = await provider('Family');
    const res = await share([
      { name: 'actor', valueReference: { reference: dr.ref } },
      { name: 'type', valueCode: 'permanent' },
      { name: 'action', valueCode: 'correct' },
      { name: 'favorite', valueBoolean: true },
    ]);
    expect(res.status).toBe(200);
    const consent: Consent = out(res.body, 'consent');
    expect(consent.provision?.period?.end).toBeUndefined();
    expect(consent.provision?.action?.map((a) => a.coding?.[0]?.code)).toEqual(['access', 'correct']);
    expect(out(res.body, 'careTeam').extension?.[0]?.valueBoolean).toBe(true);
    const patient = (await s.get<Patient>(`Patient/${alice}`, as(patientToken))).body;
    expect(patient.generalPractitioner?.map((r) => r.reference)).toContain(dr.ref);
    expect(await visible(dr.token, 'Condition', ids.condition as string)).toBe(200);
  });

  test.each([
    [
      'correct with a one-off relationship',
      [
        { name: 'type', valueCode: 'one-off' },
        { name: 'action', valueCode: 'correct' },
      ],
    ],
    [
      'an unknown category',
      [
        { name: 'type', valueCode: 'temporary' },
        { name: 'category', valueCode: 'gossip' },
      ],
    ],
    ['no relationship type', []],
    [
      'both period and duration',
      [
        { name: 'type', valueCode: 'temporary' },
        { name: 'duration', valueInteger: 3 },
        { name: 'period', valuePeriod: { end: '2099-01-01' } },
      ],
    ],
    [
      'a period that already ended',
      [
        { name: 'type', valueCode: 'temporary' },
        { name: 'period', valuePeriod: { end: '2020-01-01' } },
      ],
    ],
    [
      'an unknown parameter',
      [
        { name: 'type', valueCode: 'temporary' },
        { name: 'colour', valueString: 'red' },
      ],
    ],
    ['a value of the wrong type', [{ name: 'type', valueString: 'temporary' }]],
    [
      'a resource outside the record',
      [
        { name: 'type', valueCode: 'one-off' },
        { name: 'resource', valueReference: { reference: 'Observation/nope' } },
      ],
    ],
  ] as [string, ParametersParameter[]][])('answers 400 for %s', async (_name, parameter) => {
    const dr = await provider('Bad');
    const res = await share([{ name: 'actor', valueReference: { reference: dr.ref } }, ...parameter]);
    expect(res.status).toBe(400);
    expect(res.body.resourceType).toBe('OperationOutcome');
  });

  test('answers 400 when the actor is not a provider or organization, or does not exist', async () => {
    const type = { name: 'type', valueCode: 'temporary' };
    expect((await share([type, { name: 'actor', valueReference: { reference: `Patient/${alice}` } }])).status).toBe(
      400
    );
    expect((await share([type, { name: 'actor', valueReference: { reference: 'Practitioner/nobody' } }])).status).toBe(
      400
    );
    expect((await s.post(`Patient/${alice}/$share`, { resourceType: 'Patient' }, as(patientToken))).status).toBe(400);
  });

  test("a provider cannot share a record on the patient's behalf", async () => {
    const dr = await provider('Grabby');
    await share([
      { name: 'actor', valueReference: { reference: dr.ref } },
      { name: 'type', valueCode: 'temporary' },
    ]);
    const res = await share(
      [
        { name: 'actor', valueReference: { reference: dr.ref } },
        { name: 'type', valueCode: 'permanent' },
      ],
      dr.token
    );
    expect(res.status).toBe(403);
    const stranger = await provider('Stranger');
    const res2 = await share(
      [
        { name: 'actor', valueReference: { reference: stranger.ref } },
        { name: 'type', valueCode: 'permanent' },
      ],
      stranger.token
    );
    expect(res2.status).toBe(404);
  });
});

describe('$revoke-share', () => {
  test("ends the share: the provider's very next request answers 404", async () => {
    const dr = await provider('Revoked');
    const res = await share([
      { name: 'actor', valueReference: { reference: dr.ref } },
      { name: 'type', valueCode: 'temporary' },
    ]);
    const consent: Consent = out(res.body, 'consent');
    expect(await visible(dr.token, 'Condition', ids.condition as string)).toBe(200);
    expect((await s.post(`Consent/${consent.id}/$revoke-share`, params([]), as(dr.token))).status).toBe(404);

    const revoked = await s.post<Parameters>(`Consent/${consent.id}/$revoke-share`, undefined, as(patientToken));
    expect(revoked.status).toBe(200);
    expect(out(revoked.body, 'consent').status).toBe('inactive');
    const team: CareTeam = out(revoked.body, 'careTeam');
    expect(team.status).toBe('inactive');
    expect(team.period?.end).toBeDefined();
    expect(await visible(dr.token, 'Condition', ids.condition as string)).toBe(404);
    expect(await visible(dr.token, 'Patient', alice)).toBe(404);
    // Revoking again changes nothing.
    const again = await s.post<Parameters>(`Consent/${consent.id}/$revoke-share`, undefined, as(patientToken));
    expect(again.status).toBe(200);
    expect(out(again.body, 'consent').meta?.versionId).toBe(out(revoked.body, 'consent').meta?.versionId);
  });
});

describe('$my-patients', () => {
  const part = (p: ParametersParameter | undefined, name: string) => p?.part?.filter((x) => x.name === name) ?? [];

  test('lists the patients who share with the provider, with what and until when; not after revocation or expiry', async () => {
    const dr = await provider('Listing');
    const empty = await s.get<Parameters>('Practitioner/$my-patients', as(dr.token));
    expect(empty.status).toBe(200);
    expect(empty.body.parameter ?? []).toHaveLength(0);

    const res = await share([
      { name: 'actor', valueReference: { reference: dr.ref } },
      { name: 'type', valueCode: 'temporary' },
      { name: 'category', valueCode: 'vitals' },
      { name: 'category', valueCode: 'labs' },
      { name: 'duration', valueInteger: 5 },
      { name: 'favorite', valueBoolean: true },
    ]);
    const consent: Consent = out(res.body, 'consent');
    const listed = await s.get<Parameters>('Practitioner/$my-patients', as(dr.token));
    expect(listed.body.parameter).toHaveLength(1);
    const entry = listed.body.parameter?.[0];
    expect(part(entry, 'patient')[0]?.valueReference?.reference).toBe(`Patient/${alice}`);
    expect(part(entry, 'resource')[0]?.resource?.id).toBe(alice);
    const shareParts = part(entry, 'share')[0];
    expect(
      part(shareParts, 'category')
        .map((c) => c.valueCode)
        .sort()
    ).toEqual(['labs', 'vitals']);
    expect(part(shareParts, 'relationship')[0]?.valueCode).toBe('temporary');
    expect(part(shareParts, 'favorite')[0]?.valueBoolean).toBe(true);
    expect(part(shareParts, 'end')[0]?.valueDateTime).toBe(
      new Date(Date.parse(consent.provision?.period?.end as string)).toISOString()
    );
    expect(
      (await s.post<Parameters>('Practitioner/$my-patients', params([]), as(dr.token))).body.parameter
    ).toHaveLength(1);

    await s.post(`Consent/${consent.id}/$revoke-share`, undefined, as(patientToken));
    expect((await s.get<Parameters>('Practitioner/$my-patients', as(dr.token))).body.parameter ?? []).toHaveLength(0);

    // An expired grant is not listed either.
    await s.create(
      sharingConsent({
        patient: alice,
        actor: { reference: dr.ref },
        categories: ['all'],
        period: { start: '2020-01-01', end: '2021-01-01' },
      })
    );
    expect((await s.get<Parameters>('Practitioner/$my-patients', as(dr.token))).body.parameter ?? []).toHaveLength(0);
  });

  test("the listing is in each listed patient's own audit log, naming only them", async () => {
    const dr = await provider('Audited');
    const shared = await share([
      { name: 'actor', valueReference: { reference: dr.ref } },
      { name: 'type', valueCode: 'permanent' },
      { name: 'category', valueCode: 'vitals' },
    ]);
    expect(shared.status).toBe(200);
    const reqId = `my-patients-${Date.now()}`;
    expect((await s.get('Practitioner/$my-patients', { ...as(dr.token), 'x-request-id': reqId })).status).toBe(200);
    const log = await s.get<Bundle<AuditEvent>>('AuditEvent?_count=1000', as(patientToken));
    const mine = (log.body.entry ?? [])
      .map((e) => e.resource as AuditEvent)
      .filter((e) => JSON.stringify(e).includes(reqId));
    expect(mine).toHaveLength(1);
    expect(JSON.stringify(mine[0])).toContain(`Patient/${alice}`);
    expect(mine[0]?.agent.some((a) => a.who?.reference === dr.ref)).toBe(true);
  });

  test('answers 403 to a caller who is not a provider', async () => {
    expect((await s.get('Practitioner/$my-patients', as(patientToken))).status).toBe(403);
  });
});

describe('data-sharing requests', () => {
  const request = (dr: Provider, parameter: ParametersParameter[]) =>
    s.post<Task>(`Patient/${alice}/$request-share`, params(parameter), as(dr.token));

  test('the Task is visible to the patient and the requester; approving it with $share completes it', async () => {
    const dr = await provider('Asking');
    const other = await provider('Nosy');
    const res = await request(dr, [
      { name: 'category', valueCode: 'labs' },
      { name: 'category', valueCode: 'vitals' },
      { name: 'duration', valueInteger: 7 },
      { name: 'reason', valueString: 'Follow-up on your blood tests' },
    ]);
    expect(res.status).toBe(200);
    const task = res.body;
    expect(task).toMatchObject({ status: 'requested', intent: 'proposal', requester: { reference: dr.ref } });
    expect(await visible(patientToken, 'Task', task.id as string)).toBe(200);
    expect(await visible(dr.token, 'Task', task.id as string)).toBe(200);
    expect(await visible(other.token, 'Task', task.id as string)).toBe(404);
    const mine = (await s.get<Bundle>(`Task?patient=${alice}`, as(dr.token))).body;
    expect((mine.entry ?? []).map((e) => e.resource?.id)).toEqual([task.id]);
    expect(await visible(dr.token, 'Observation', ids.lab as string)).toBe(404);

    // The patient narrows the request to labs.
    const approved = await share([
      { name: 'request', valueReference: { reference: `Task/${task.id}` } },
      { name: 'type', valueCode: 'temporary' },
      { name: 'category', valueCode: 'labs' },
    ]);
    expect(approved.status).toBe(200);
    const done: Task = out(approved.body, 'task');
    expect(done.status).toBe('completed');
    expect(done.output?.[0]?.valueReference?.reference).toBe(`Consent/${out(approved.body, 'consent').id}`);
    expect(out(approved.body, 'careTeam').participant[0].member.reference).toBe(dr.ref);
    expect(await observationsSeen(dr.token)).toEqual([ids.lab]);
    expect((await s.get<Task>(`Task/${task.id}`, as(dr.token))).body.status).toBe('completed');
    // A completed request cannot be approved again.
    expect(
      (
        await share([
          { name: 'request', valueReference: { reference: `Task/${task.id}` } },
          { name: 'type', valueCode: 'temporary' },
        ])
      ).status
    ).toBe(400);
  });

  test('rejecting a request is a plain update by the patient; the provider still sees nothing', async () => {
    const dr = await provider('Rejected');
    const task = (await request(dr, [{ name: 'category', valueCode: 'medical-history' }])).body;
    const rejected = await s.put<Task>(`Task/${task.id}`, { ...task, status: 'rejected' }, as(patientToken));
    expect(rejected.status).toBe(200);
    expect(await visible(dr.token, 'Condition', ids.condition as string)).toBe(404);
    expect(await observationsSeen(dr.token)).toEqual([]);
    expect((await s.get<Task>(`Task/${task.id}`, as(dr.token))).body.status).toBe('rejected');
  });

  test('only providers may ask; bad input answers 400; an unknown patient 404', async () => {
    const dr = await provider('Checker');
    expect((await s.post(`Patient/${alice}/$request-share`, params([]), as(patientToken))).status).toBe(403);
    expect((await request(dr, [{ name: 'category', valueCode: 'everything' }])).status).toBe(400);
    expect((await request(dr, [{ name: 'duration', valueInteger: 0 }])).status).toBe(400);
    expect((await s.post('Patient/nobody/$request-share', params([]), as(dr.token))).status).toBe(404);
  });
});

describe('/metadata', () => {
  test('lists the sharing operations', async () => {
    const rest = (await s.get('metadata')).body.rest[0];
    const ops = (type: string): string[] =>
      rest.resource.find((r: { type: string }) => r.type === type).operation.map((o: { name: string }) => o.name);
    expect(ops('Patient')).toEqual(expect.arrayContaining(['share', 'request-share', 'break-glass', 'everything']));
    expect(ops('Consent')).toContain('revoke-share');
    expect(ops('Practitioner')).toContain('my-patients');
  });
});
