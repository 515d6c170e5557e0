import type {
  Appointment,
  Bundle,
  Communication,
  OperationOutcome,
  Parameters,
  ParametersParameter,
  QuestionnaireResponse,
  Slot,
  Task,
} from '@medplum/fhirtypes';
import type { TestServer } from '../test/test-server';
import { startTestServer } from '../test/test-server';
import type { Person } from './test-fixtures';
import { as, daysFromNow, generate, params, patient, provider, ruleOf, schedule, slotsOf } from './test-fixtures';
import { TRIAGE_SEVERITY_SYSTEM } from './vocabulary';

let s: TestServer;
let dr: Person & { role: string };
let other: Person & { role: string };
let unlisted: Person;
let alice: Person;
let bob: Person;
let slots: (Slot & { id: string })[];
let otherSlots: (Slot & { id: string })[];
let next = 0;
const freeSlot = (): Slot & { id: string } => slots[next++] as Slot & { id: string };

/** A provider listed in the marketplace: a Practitioner with an active PractitionerRole. */
async function listed(family: string): Promise<Person & { role: string }> {
  const p = await provider(s, family);
  const role = await s.create({ resourceType: 'PractitionerRole', active: true, practitioner: { reference: p.ref } });
  return { ...p, role: `PractitionerRole/${role.id}` };
}

beforeAll(async () => {
  s = await startTestServer();
  dr = await listed('Triage');
  other = await listed('Elsewhere');
  unlisted = await provider(s, 'Unlisted');
  alice = await patient(s, 'Alice');
  bob = await patient(s, 'Bob');
  const mine = await schedule(s, dr);
  await generate(s, dr.token, mine.id, { start: daysFromNow(2), end: daysFromNow(9) });
  slots = await slotsOf(s, mine.id);
  const theirs = await schedule(s, other);
  await generate(s, other.token, theirs.id, { start: daysFromNow(2), end: daysFromNow(3) });
  otherSlots = await slotsOf(s, theirs.id);
}, 60_000);

afterAll(async () => {
  await s?.stop();
});

type Req = Task & { id: string };
const ref = (reference: string): { reference: string } => ({ reference });

function ask(who: Person, to: string, extra: ParametersParameter[] = [], reason = 'Knee pain after running') {
  return s.post<Req | OperationOutcome>(
    'Task/$request-visit',
    params([
      { name: 'provider', valueReference: ref(to) },
      { name: 'reason', valueString: reason },
      ...(extra.some((p) => p.name === 'severity' || p.name === 'answers')
        ? []
        : [{ name: 'severity', valueCode: 'routine' }]),
      ...extra,
    ]),
    as(who.token)
  );
}

async function asked(who: Person = alice, to: string = dr.role, extra: ParametersParameter[] = []): Promise<Req> {
  const res = await ask(who, to, extra);
  expect(res.status).toBe(201);
  return res.body as Req;
}

const triage = (who: Person, id: string, parameter: ParametersParameter[]) =>
  s.post<Parameters | OperationOutcome>(`Task/${id}/$triage`, params(parameter), as(who.token));
const accept = (who: Person, id: string, slotId: string) =>
  triage(who, id, [
    { name: 'decision', valueCode: 'accept' },
    { name: 'slot', valueReference: ref(`Slot/${slotId}`) },
  ]);
const decline = (who: Person, id: string, reason = 'Not my specialty') =>
  triage(who, id, [
    { name: 'decision', valueCode: 'decline' },
    { name: 'reason', valueString: reason },
  ]);
const redirect = (who: Person, id: string, to: string) =>
  triage(who, id, [
    { name: 'decision', valueCode: 'redirect' },
    { name: 'provider', valueReference: ref(to) },
    { name: 'reason', valueString: 'A sports physician suits this better' },
  ]);
const withdraw = (who: Person, id: string) =>
  s.post<Req | OperationOutcome>(`Task/${id}/$withdraw`, params([]), as(who.token));
const out = (body: unknown, name: string): any =>
  (body as Parameters).parameter?.find((p) => p.name === name)?.resource;
const queue = async (who: Person, all = false): Promise<Req[]> => {
  const res = await s.get<Bundle>(`Task/$visit-requests${all ? '?all=true' : ''}`, as(who.token));
  expect(res.status).toBe(200);
  return (res.body.entry ?? []).map((e) => e.resource as Req);
};
/** The notifications about a request (R4 has no Communication `about` search parameter, so filtered here). */
const notices = async (about: string): Promise<Communication[]> =>
  ((await s.search('Communication?status=preparation&_count=1000')).entry ?? [])
    .map((e) => e.resource as Communication)
    .filter((c) => c.about?.some((a) => a.reference === about));

describe('a patient asks for a visit', () => {
  test('creates a visit-request Task for the listed provider, who is notified without PHI', async () => {
    const start = new Date(Date.now() + 3 * 86_400_000).toISOString();
    const end = new Date(Date.now() + 3 * 86_400_000 + 3_600_000).toISOString();
    const task = await asked(bob, dr.role, [
      { name: 'severity', valueCode: 'urgent' },
      { name: 'preferred', valuePeriod: { start, end } },
    ]);
    expect(task).toMatchObject({
      status: 'requested',
      intent: 'proposal',
      priority: 'urgent',
      for: ref(bob.ref),
      requester: ref(bob.ref),
      owner: ref(dr.role),
      reasonCode: { text: 'Knee pain after running' },
    });
    expect(task.input?.map((i) => i.type.coding?.[0]?.code)).toEqual(['severity', 'preferred-time']);
    const [notice] = await notices(`Task/${task.id}`);
    expect(notice?.recipient).toEqual([ref(dr.role)]);
    expect(JSON.stringify(notice?.payload)).not.toMatch(/knee|Bob|urgent/i);
    expect((await withdraw(bob, task.id)).status).toBe(200);
  });

  test('takes the severity from the triage answers, and copies them into the request', async () => {
    const qr = await s.create<QuestionnaireResponse>({
      resourceType: 'QuestionnaireResponse',
      status: 'completed',
      subject: ref(alice.ref),
      item: [
        {
          linkId: 'how-bad',
          answer: [{ valueCoding: { system: TRIAGE_SEVERITY_SYSTEM, code: 'soon' } }],
        },
      ],
    });
    const task = await asked(alice, dr.role, [
      { name: 'answers', valueReference: ref(`QuestionnaireResponse/${qr.id}`) },
    ]);
    expect(task.input?.[0]?.valueCoding?.code).toBe('soon');
    expect(task.contained?.[0]).toMatchObject({ resourceType: 'QuestionnaireResponse', item: qr.item });
    expect((await withdraw(alice, task.id)).status).toBe(200);
  });

  test('an emergency is told to call emergency services and nothing is stored', async () => {
    const qr = await s.create<QuestionnaireResponse>({
      resourceType: 'QuestionnaireResponse',
      status: 'completed',
      subject: ref(alice.ref),
      item: [{ linkId: 'chest', answer: [{ valueCoding: { system: TRIAGE_SEVERITY_SYSTEM, code: 'emergency' } }] }],
    });
    const before = (await s.search('Task?code=https://hale.health/fhir/CodeSystem/task-code|visit-request')).total;
    // The answers raise the severity the patient chose: the most severe counts.
    const res = await ask(alice, dr.role, [
      { name: 'severity', valueCode: 'routine' },
      { name: 'answers', valueReference: ref(`QuestionnaireResponse/${qr.id}`) },
    ]);
    expect(res.status).toBe(422);
    expect(ruleOf(res.body)).toBe('emergency-call-services');
    expect(JSON.stringify(res.body)).toMatch(/emergency number/);
    expect((await ask(alice, dr.role, [{ name: 'severity', valueCode: 'emergency' }])).status).toBe(422);
    expect((await s.search('Task?code=https://hale.health/fhir/CodeSystem/task-code|visit-request')).total).toBe(
      before
    );
  });

  test('only to a provider listed in the marketplace', async () => {
    const res = await ask(alice, unlisted.ref);
    expect(res.status).toBe(422);
    expect(ruleOf(res.body)).toBe('provider-not-listed');
    const inactive = await s.create({
      resourceType: 'PractitionerRole',
      active: false,
      practitioner: ref(unlisted.ref),
    });
    expect(ruleOf((await ask(alice, `PractitionerRole/${inactive.id}`)).body)).toBe('provider-not-listed');
    expect(ruleOf((await ask(alice, 'Patient/' + bob.id)).body)).toBe('provider-not-listed');
  });

  test('only for themself; providers do not make requests', async () => {
    expect((await ask(alice, dr.role, [{ name: 'patient', valueReference: ref(bob.ref) }])).status).toBe(403);
    expect((await ask(other, dr.role)).status).toBe(403);
    const bobsAnswers = await s.create<QuestionnaireResponse>({
      resourceType: 'QuestionnaireResponse',
      status: 'completed',
      subject: ref(bob.ref),
    });
    const res = await ask(alice, dr.role, [
      { name: 'answers', valueReference: ref(`QuestionnaireResponse/${bobsAnswers.id}`) },
    ]);
    expect([403, 404]).toContain(res.status);
  });

  test('refuses bad input with 400', async () => {
    expect((await ask(alice, dr.role, [{ name: 'severity', valueCode: 'mild' }])).status).toBe(400);
    const past = { start: '2020-01-01T09:00:00Z', end: '2020-01-01T10:00:00Z' };
    expect((await ask(alice, dr.role, [{ name: 'preferred', valuePeriod: past }])).status).toBe(400);
    expect((await ask(alice, dr.role, [], 'x'.repeat(1001))).status).toBe(400);
    const noSeverity = await s.post(
      'Task/$request-visit',
      params([
        { name: 'provider', valueReference: ref(dr.role) },
        { name: 'reason', valueString: 'Checkup' },
      ]),
      as(alice.token)
    );
    expect(noSeverity.status).toBe(400);
    expect(
      (await s.post('Task/$request-visit', params([{ name: 'bogus', valueString: 'x' }]), as(alice.token))).status
    ).toBe(400);
  });

  test('one open request per provider, even when sent concurrently', async () => {
    const results = await Promise.all(Array.from({ length: 10 }, () => ask(bob, other.role)));
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    const refused = results.filter((r) => r.status !== 201);
    expect(refused.every((r) => r.status === 409 && ruleOf(r.body) === 'visit-request-open')).toBe(true);
    const open = results.find((r) => r.status === 201)?.body as Req;
    expect((await withdraw(bob, open.id)).status).toBe(200);
  });
});

describe('who sees a request', () => {
  test('the provider sees those addressed to them, most severe first; the patient their own; others nothing', async () => {
    const routine = await asked(alice, dr.role);
    const urgent = await asked(bob, dr.role, [{ name: 'severity', valueCode: 'urgent' }]);
    const mine = (await queue(dr)).map((t) => t.id);
    expect(mine.indexOf(urgent.id)).toBeLessThan(mine.indexOf(routine.id));
    expect((await queue(other)).map((t) => t.id)).not.toContain(routine.id);
    expect((await queue(alice)).map((t) => t.id)).toEqual([routine.id]);
    expect((await queue(bob)).map((t) => t.id)).toEqual([urgent.id]);
    // By REST the patient reads their own; a provider without a Consent does not, the addressee included.
    expect((await s.get(`Task/${routine.id}`, as(alice.token))).status).toBe(200);
    expect((await s.get(`Task/${routine.id}`, as(bob.token))).status).toBe(404);
    expect((await s.get(`Task/${routine.id}`, as(other.token))).status).toBe(404);
    for (const t of [routine, urgent]) {
      expect((await decline(dr, t.id)).status).toBe(200);
    }
  });

  test('REST writes of a visit request are refused to everyone but backend services', async () => {
    const task = await asked();
    const put = await s.put(`Task/${task.id}`, { ...task, status: 'completed' }, as(alice.token));
    expect(put.status).toBe(403);
    expect((await s.put(`Task/${task.id}`, { ...task, status: 'rejected' }, as(dr.token))).status).toBe(403);
    const { id: _id, meta: _meta, ...copy } = task;
    expect((await s.post('Task', copy, as(alice.token))).status).toBe(403);
    expect((await s.del(`Task/${task.id}`, as(alice.token))).status).toBe(403);
    expect((await s.get<Task>(`Task/${task.id}`)).body.status).toBe('requested');
    expect((await withdraw(alice, task.id)).status).toBe(200);
  });

  test('triage by another provider is 404, by the patient 403', async () => {
    const task = await asked();
    expect((await decline(other, task.id)).status).toBe(404);
    expect((await decline(alice, task.id)).status).toBe(403);
    expect((await triage(dr, 'nope', [{ name: 'decision', valueCode: 'decline' }])).status).toBe(400);
    expect((await decline(dr, 'does-not-exist')).status).toBe(404);
    expect((await withdraw(alice, task.id)).status).toBe(200);
  });
});

describe('triage', () => {
  test('accept books the chosen slot for the patient, and the patient is told', async () => {
    const task = await asked();
    const slot = freeSlot();
    const res = await accept(dr, task.id, slot.id);
    expect(res.status).toBe(200);
    const appointment = out(res.body, 'appointment') as Appointment & { id: string };
    expect(appointment).toMatchObject({
      status: 'booked',
      slot: [ref(`Slot/${slot.id}`)],
      reasonCode: [{ text: 'Knee pain after running' }],
    });
    expect(appointment.participant.map((p) => p.status)).toEqual(['accepted', 'accepted']);
    expect(out(res.body, 'task')).toMatchObject({
      status: 'completed',
      output: [{ valueReference: ref(`Appointment/${appointment.id}`) }],
    });
    expect((await s.get<Slot>(`Slot/${slot.id}`)).body.status).toBe('busy');
    expect((await s.get(`Appointment/${appointment.id}`, as(alice.token))).status).toBe(200);
    const [notice] = await notices(`Task/${task.id}`).then((n) =>
      n.filter((c) => c.recipient?.[0]?.reference === alice.ref)
    );
    expect(notice?.payload?.[0]?.contentString).toMatch(/accepted/);
    // Answered: no second answer, and the patient can no longer withdraw it.
    expect(ruleOf((await decline(dr, task.id)).body)).toBe('visit-request-closed');
    expect((await withdraw(alice, task.id)).status).toBe(409);
  });

  test('accept needs a free slot on one of the provider’s own schedules', async () => {
    const task = await asked();
    expect((await accept(dr, task.id, otherSlots[0]?.id as string)).status).toBe(403);
    const taken = freeSlot();
    const booked = await asked(bob);
    expect((await accept(dr, booked.id, taken.id)).status).toBe(200);
    const res = await accept(dr, task.id, taken.id);
    expect(res.status).toBe(409);
    expect(ruleOf(res.body)).toBe('slot-not-free');
    expect((await s.get<Task>(`Task/${task.id}`)).body.status).toBe('requested');
    expect((await triage(dr, task.id, [{ name: 'decision', valueCode: 'accept' }])).status).toBe(400);
    expect((await withdraw(alice, task.id)).status).toBe(200);
  });

  test('decline closes the request with its reason', async () => {
    const task = await asked();
    expect((await triage(dr, task.id, [{ name: 'decision', valueCode: 'decline' }])).status).toBe(400);
    const res = await decline(dr, task.id, 'Please see a dermatologist');
    expect(out(res.body, 'task')).toMatchObject({
      status: 'rejected',
      statusReason: { text: 'Please see a dermatologist' },
    });
    expect((await queue(alice)).map((t) => t.id)).not.toContain(task.id);
    expect((await queue(alice, true)).map((t) => t.id)).toContain(task.id);
  });

  test('redirect hands the request to another listed provider, who then answers it', async () => {
    const task = await asked();
    expect(ruleOf((await redirect(dr, task.id, dr.role)).body)).toBe('redirect-to-self');
    expect(ruleOf((await redirect(dr, task.id, unlisted.ref)).body)).toBe('provider-not-listed');
    const res = await redirect(dr, task.id, other.role);
    expect(res.status).toBe(200);
    expect(out(res.body, 'task')).toMatchObject({ status: 'requested', owner: ref(other.role) });
    expect((await queue(dr)).map((t) => t.id)).not.toContain(task.id);
    expect((await queue(other)).map((t) => t.id)).toContain(task.id);
    expect((await decline(dr, task.id)).status).toBe(404);
    const recipients = (await notices(`Task/${task.id}`)).map((c) => c.recipient?.[0]?.reference);
    expect(recipients).toEqual(expect.arrayContaining([dr.role, other.role, alice.ref]));
    expect((await accept(other, task.id, otherSlots[1]?.id as string)).status).toBe(200);
  });

  test('concurrent answers to one request: exactly one takes effect', async () => {
    const task = await asked();
    const candidates = [freeSlot(), freeSlot(), freeSlot(), freeSlot(), freeSlot()];
    const results = await Promise.all([
      ...candidates.map((slot) => accept(dr, task.id, slot.id)),
      decline(dr, task.id),
      decline(dr, task.id, 'Full'),
      redirect(dr, task.id, other.role),
      withdraw(alice, task.id),
    ]);
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    const losers = results.filter((r) => r.status !== 200);
    expect(losers.every((r) => r.status === 409 && ruleOf(r.body) === 'visit-request-closed')).toBe(true);
    const busy = await Promise.all(candidates.map(async (c) => (await s.get<Slot>(`Slot/${c.id}`)).body.status));
    const stored = (await s.get<Task>(`Task/${task.id}`)).body;
    expect(busy.filter((b) => b === 'busy')).toHaveLength(stored.status === 'completed' ? 1 : 0);
    expect(stored.status === 'requested' ? stored.owner : undefined).toEqual(
      stored.status === 'requested' ? ref(other.role) : undefined
    );
  });

  test('withdraw is the patient’s: the provider declines instead', async () => {
    const task = await asked();
    expect((await withdraw(dr, task.id)).status).toBe(403);
    const res = await withdraw(alice, task.id);
    expect(res.body).toMatchObject({ status: 'cancelled' });
    expect(ruleOf((await withdraw(alice, task.id)).body)).toBe('visit-request-closed');
  });
});

describe('the emergency rule is configured, not built in', () => {
  test('TRIAGE_EMERGENCY_SEVERITY=urgent refuses urgent requests with the configured advice', async () => {
    const strict = await startTestServer({
      TRIAGE_EMERGENCY_SEVERITY: 'urgent',
      TRIAGE_EMERGENCY_MESSAGE: 'Call 112 now.',
    });
    try {
      const p = await provider(strict, 'Strict');
      await strict.create({ resourceType: 'PractitionerRole', active: true, practitioner: ref(p.ref) });
      const who = await patient(strict, 'Carol');
      const body = (severity: string) =>
        params([
          { name: 'provider', valueReference: ref(p.ref) },
          { name: 'reason', valueString: 'Fever' },
          { name: 'severity', valueCode: severity },
        ]);
      const res = await strict.post<OperationOutcome>('Task/$request-visit', body('urgent'), as(who.token));
      expect(res.status).toBe(422);
      expect(res.body.issue?.[0]?.details?.text).toBe('Call 112 now.');
      expect((await strict.post('Task/$request-visit', body('soon'), as(who.token))).status).toBe(201);
    } finally {
      await strict.stop();
    }
  });
});
