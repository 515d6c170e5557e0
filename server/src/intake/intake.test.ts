import type {
  Communication,
  OperationOutcome,
  Questionnaire,
  QuestionnaireResponse,
  QuestionnaireResponseItem,
  Task,
} from '@medplum/fhirtypes';
import type { Person } from '../scheduling/test-fixtures';
import { as, params, patient, provider, ruleOf } from '../scheduling/test-fixtures';
import { sharingConsent } from '../test/consent-fixtures';
import type { TestServer } from '../test/test-server';
import { startTestServer } from '../test/test-server';

let s: TestServer;
let dr: Person;
let stranger: Person;
let alice: Person;
let bob: Person;
let form: Questionnaire & { id: string };
let otherForm: Questionnaire & { id: string };

const yes = { system: 'http://example.org/yn', code: 'a' };

beforeAll(async () => {
  s = await startTestServer();
  dr = await provider(s, 'Intake');
  stranger = await provider(s, 'Stranger');
  alice = await patient(s, 'Alice');
  bob = await patient(s, 'Bob');
  await s.create(sharingConsent({ patient: alice.id, actor: { reference: dr.ref } }));
  form = await s.create<Questionnaire>({
    resourceType: 'Questionnaire',
    status: 'active',
    url: 'https://example.org/Questionnaire/new-patient',
    title: 'New patient form',
    item: [
      { linkId: 'intro', type: 'display', text: 'Welcome' },
      { linkId: 'name', type: 'string', required: true, maxLength: 20 },
      { linkId: 'smoker', type: 'boolean', required: true },
      {
        linkId: 'cigarettes',
        type: 'integer',
        required: true,
        enableWhen: [{ question: 'smoker', operator: '=', answerBoolean: true }],
      },
      {
        linkId: 'allergy',
        type: 'choice',
        answerOption: [{ valueCoding: yes }, { valueCoding: { system: 'http://example.org/yn', code: 'b' } }],
      },
      { linkId: 'contact', type: 'group', required: true, item: [{ linkId: 'phone', type: 'string', required: true }] },
    ],
  });
  otherForm = await s.create<Questionnaire>({
    resourceType: 'Questionnaire',
    status: 'active',
    item: [{ linkId: 'x', type: 'string' }],
  });
}, 60_000);

afterAll(async () => {
  await s?.stop();
});

type Intake = Task & { id: string };
const ref = (reference: string): { reference: string } => ({ reference });

const assign = (who: Person, to: Person, questionnaire = `Questionnaire/${form.id}`, due?: string) =>
  s.post<Intake | OperationOutcome>(
    'Task/$assign-intake',
    params([
      { name: 'patient', valueReference: ref(to.ref) },
      { name: 'questionnaire', valueReference: ref(questionnaire) },
      ...(due ? [{ name: 'due', valueDateTime: due }] : []),
    ]),
    as(who.token)
  );

async function assigned(): Promise<Intake> {
  const res = await assign(dr, alice, `Questionnaire/${form.id}`, new Date(Date.now() + 86_400_000).toISOString());
  expect(res.status).toBe(201);
  return res.body as Intake;
}

const contact: QuestionnaireResponseItem = {
  linkId: 'contact',
  item: [{ linkId: 'phone', answer: [{ valueString: '555-0100' }] }],
};
const valid: QuestionnaireResponseItem[] = [
  { linkId: 'name', answer: [{ valueString: 'Alice' }] },
  { linkId: 'smoker', answer: [{ valueBoolean: false }] },
  contact,
];

/** The patient writes her answers by REST, as the portal does, and gets their id. */
async function answers(items: QuestionnaireResponseItem[], extra: Partial<QuestionnaireResponse> = {}, who = alice) {
  const res = await s.post<QuestionnaireResponse & { id: string }>(
    'QuestionnaireResponse',
    {
      resourceType: 'QuestionnaireResponse',
      status: 'completed',
      questionnaire: form.url,
      subject: ref(who.ref),
      item: items,
      ...extra,
    },
    as(who.token)
  );
  expect(res.status).toBe(201);
  return res.body.id;
}

const submit = (who: Person, taskId: string, responseId: string) =>
  s.post<Intake | OperationOutcome>(
    `Task/${taskId}/$submit-intake`,
    params([{ name: 'response', valueReference: ref(`QuestionnaireResponse/${responseId}`) }]),
    as(who.token)
  );
const problems = (body: unknown): string[] =>
  ((body as OperationOutcome).issue ?? []).map((i) => i.details?.text ?? '');
const noticesAbout = async (about: string): Promise<Communication[]> =>
  ((await s.search('Communication?status=preparation&_count=1000')).entry ?? [])
    .map((e) => e.resource as Communication)
    .filter((c) => c.about?.some((a) => a.reference === about));

describe('assigning a form', () => {
  test('a provider with an active relationship assigns it; the patient owns the Task and is told', async () => {
    const task = await assigned();
    expect(task).toMatchObject({
      status: 'requested',
      for: ref(alice.ref),
      owner: ref(alice.ref),
      requester: ref(dr.ref),
      focus: ref(`Questionnaire/${form.id}`),
      description: 'New patient form',
    });
    expect(task.restriction?.period?.end).toBeDefined();
    const [notice] = await noticesAbout(`Task/${task.id}`);
    expect(notice?.recipient).toEqual([ref(alice.ref)]);
    expect(JSON.stringify(notice?.payload)).not.toMatch(/New patient|Intake/);
    expect((await s.get(`Task/${task.id}`, as(alice.token))).status).toBe(200);
  });

  test('refused without a relationship, to patients, and for bad input', async () => {
    expect((await assign(stranger, alice)).status).toBe(403);
    expect((await assign(dr, bob)).status).toBe(403);
    expect((await assign(alice, alice)).status).toBe(403);
    expect((await assign(dr, alice, 'Patient/x')).status).toBe(400);
    expect((await assign(dr, alice, 'Questionnaire/missing')).status).toBe(404);
    expect((await assign(dr, alice, `Questionnaire/${form.id}`, '2020-01-01T00:00:00Z')).status).toBe(400);
  });

  test('REST writes of an intake Task are refused: handing in goes through $submit-intake', async () => {
    const task = await assigned();
    expect((await s.put(`Task/${task.id}`, { ...task, status: 'completed' }, as(alice.token))).status).toBe(403);
    expect((await s.get<Task>(`Task/${task.id}`)).body.status).toBe('requested');
  });
});

describe('handing in the answers', () => {
  test('valid answers complete the Task, once; the provider is told', async () => {
    const task = await assigned();
    const id = await answers(valid);
    const res = await submit(alice, task.id, id);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      status: 'completed',
      output: [{ valueReference: ref(`QuestionnaireResponse/${id}`) }],
    });
    const recipients = (await noticesAbout(`Task/${task.id}`)).map((c) => c.recipient?.[0]?.reference);
    expect(recipients).toEqual(expect.arrayContaining([alice.ref, dr.ref]));
    const again = await submit(alice, task.id, id);
    expect(again.status).toBe(409);
    expect(ruleOf(again.body)).toBe('intake-closed');
  });

  test('answers that break the form are 422, one issue per problem, and the Task still waits', async () => {
    const task = await assigned();
    const id = await answers([
      { linkId: 'name', answer: [{ valueString: 'A much too long name for this' }] },
      { linkId: 'smoker', answer: [{ valueString: 'no' }] },
      { linkId: 'allergy', answer: [{ valueCoding: { system: 'http://example.org/yn', code: 'z' } }] },
      { linkId: 'shoe-size', answer: [{ valueInteger: 9 }] },
    ]);
    const res = await submit(alice, task.id, id);
    expect(res.status).toBe(422);
    expect(ruleOf(res.body)).toBe('answers-invalid');
    const found = problems(res.body);
    expect(found).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/'name': at most 20/),
        expect.stringMatching(/'smoker' takes an answer of type boolean/),
        expect.stringMatching(/'allergy': the answer is not one of its options/),
        expect.stringMatching(/'shoe-size' is not an item/),
        expect.stringMatching(/'contact' is required/),
      ])
    );
    expect((await s.get<Task>(`Task/${task.id}`)).body.status).toBe('requested');
  });

  test('enableWhen: a question that is switched on is required, one switched off must stay empty', async () => {
    const task = await assigned();
    const smoker = (yesNo: boolean, extra: QuestionnaireResponseItem[] = []) =>
      answers([
        valid[0] as QuestionnaireResponseItem,
        { linkId: 'smoker', answer: [{ valueBoolean: yesNo }] },
        contact,
        ...extra,
      ]);
    expect(problems((await submit(alice, task.id, await smoker(true))).body)).toEqual(["'cigarettes' is required"]);
    const offButAnswered = await smoker(false, [{ linkId: 'cigarettes', answer: [{ valueInteger: 5 }] }]);
    expect(problems((await submit(alice, task.id, offButAnswered)).body)).toEqual([
      "'cigarettes' is answered though its enableWhen switches it off",
    ]);
    const on = await smoker(true, [
      { linkId: 'cigarettes', answer: [{ valueInteger: 5 }] },
      { linkId: 'allergy', answer: [{ valueCoding: yes }] },
    ]);
    expect((await submit(alice, task.id, on)).status).toBe(200);
  });

  test('answers to another questionnaire are not what was assigned', async () => {
    const task = await assigned();
    const id = await answers([{ linkId: 'x', answer: [{ valueString: 'y' }] }], {
      questionnaire: `Questionnaire/${otherForm.id}`,
    });
    const res = await submit(alice, task.id, id);
    expect(res.status).toBe(422);
    expect(ruleOf(res.body)).toBe('not-assigned');
    const draft = await answers(valid, { status: 'in-progress' });
    expect((await submit(alice, task.id, draft)).status).toBe(400);
  });

  test('only the patient the form is assigned to hands it in, with her own answers', async () => {
    const task = await assigned();
    const bobs = await answers(valid, {}, bob);
    expect([403, 404]).toContain((await submit(alice, task.id, bobs)).status);
    expect((await submit(bob, task.id, bobs)).status).toBe(404);
    const hers = await answers(valid);
    expect([403, 404]).toContain((await submit(dr, task.id, hers)).status);
    expect((await submit(stranger, task.id, hers)).status).toBe(404);
    expect((await s.get<Task>(`Task/${task.id}`)).body.status).toBe('requested');
  });
});
