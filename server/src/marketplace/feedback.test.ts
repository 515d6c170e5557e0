import type {
  Appointment,
  Extension,
  OperationOutcome,
  PractitionerRole,
  QuestionnaireResponse,
} from '@medplum/fhirtypes';
import type { Person } from '../scheduling/test-fixtures';
import { as, params, patient } from '../scheduling/test-fixtures';
import type { TestServer } from '../test/test-server';
import { startTestServer } from '../test/test-server';
import { FEEDBACK_FORM_URL } from './feedback-form';
import { locationAt, providerListing } from './listing-examples';
import { FEEDBACK_IDENTIFIER_SYSTEM, LISTING_EXTENSIONS } from './vocabulary';

const answers = (score: unknown, extra: QuestionnaireResponse['item'] = []): QuestionnaireResponse => ({
  resourceType: 'QuestionnaireResponse',
  status: 'completed',
  questionnaire: FEEDBACK_FORM_URL,
  item: [{ linkId: 'score', answer: [{ valueInteger: score as number }] }, ...extra],
});

/** An answer of the operation: the stored response, or an OperationOutcome (their fields, all optional). */
type Answered = Partial<Omit<QuestionnaireResponse, 'resourceType'>> & Partial<Omit<OperationOutcome, 'resourceType'>>;

const ruleOf = (body: Answered): string | undefined => body.issue?.[0]?.details?.coding?.[0]?.code;

describe('visit feedback and listing ratings', () => {
  let s: TestServer;
  let roleId: string;
  let otherRoleId: string;
  let practitionerId: string;
  let refs: { practitionerId: string; organizationId: string; locationId: string };

  beforeAll(async () => {
    s = await startTestServer();
    practitionerId = (await s.create({ resourceType: 'Practitioner', name: [{ family: 'Ngata' }] })).id;
    const organizationId = (await s.create({ resourceType: 'Organization', name: 'Harbour Health' })).id;
    const locationId = (await s.create(locationAt('Wellington', -41.2865, 174.7762))).id;
    refs = { practitionerId, organizationId, locationId };
    roleId = (await s.create(providerListing(refs))).id;
    otherRoleId = (await s.create(providerListing(refs))).id;
  });

  afterAll(async () => {
    await s?.stop();
  });

  /** A visit of the patient with the listing (written as the scheduling workflow leaves it, by a system client). */
  async function visit(who: Person, status: Appointment['status'], actor = `PractitionerRole/${roleId}`) {
    return s.create<Appointment>({
      resourceType: 'Appointment',
      status,
      start: '2026-03-02T09:00:00Z',
      end: '2026-03-02T09:30:00Z',
      participant: [
        { actor: { reference: who.ref }, status: 'accepted' },
        { actor: { reference: actor }, status: 'accepted' },
      ],
    });
  }

  const submit = (who: Person, appointmentId: string, response: QuestionnaireResponse) =>
    s.post<Answered>(
      `Appointment/${appointmentId}/$submit-feedback`,
      params([{ name: 'response', resource: response }]),
      as(who.token)
    );

  async function ratingOf(id: string): Promise<Record<string, number | undefined>> {
    const listing = (await s.get<PractitionerRole>(`PractitionerRole/${id}`)).body;
    const rating = listing.extension?.find((e) => e.url === LISTING_EXTENSIONS.rating);
    const part = (url: string): Extension | undefined => rating?.extension?.find((e) => e.url === url);
    return {
      mean: part('mean')?.valueDecimal,
      count: part('count')?.valueUnsignedInt,
      total: part('total')?.valueUnsignedInt,
    };
  }

  test('the patient of a fulfilled visit gives feedback once; the listing is rated; a second answer is 409', async () => {
    const ana = await patient(s, 'Ana');
    const done = await visit(ana, 'fulfilled', `Practitioner/${practitionerId}`); // rates both of their roles
    const res = await submit(ana, done.id, answers(9, [{ linkId: 'comment', answer: [{ valueString: 'Kind' }] }]));
    expect([res.status, res.body.identifier, res.body.subject, res.body.questionnaire]).toEqual([
      200,
      { system: FEEDBACK_IDENTIFIER_SYSTEM, value: `Appointment/${done.id}` },
      { reference: ana.ref },
      FEEDBACK_FORM_URL,
    ]);
    expect(await ratingOf(otherRoleId)).toEqual({ mean: 9, count: 1, total: 9 });
    const again = await submit(ana, done.id, answers(2));
    expect([again.status, ruleOf(again.body)]).toEqual([409, 'feedback-given']);
    expect(await ratingOf(otherRoleId)).toEqual({ mean: 9, count: 1, total: 9 });
  });

  test('feedback before the visit is over is refused (422 visit-not-completed); a finished Encounter ends it', async () => {
    const ben = await patient(s, 'Ben');
    const booked = await visit(ben, 'booked', `PractitionerRole/${otherRoleId}`);
    const early = await submit(ben, booked.id, answers(7));
    expect([early.status, ruleOf(early.body)]).toEqual([422, 'visit-not-completed']);
    await s.create({
      resourceType: 'Encounter',
      status: 'finished',
      class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'VR' },
      subject: { reference: ben.ref },
      appointment: [{ reference: `Appointment/${booked.id}` }],
    });
    const res = await submit(ben, booked.id, answers(7));
    expect([res.status, res.body.encounter?.reference?.startsWith('Encounter/')]).toEqual([200, true]);
    expect(await ratingOf(otherRoleId)).toEqual({ mean: 8, count: 2, total: 16 });
  });

  test('another patient cannot give feedback on the visit (404: they cannot see it), nor a provider (403)', async () => {
    const cai = await patient(s, 'Cai');
    const dee = await patient(s, 'Dee');
    const done = await visit(cai, 'fulfilled');
    const stranger = await submit(dee, done.id, answers(0));
    expect(stranger.status).toBe(404);
    const provider = await s.post<OperationOutcome>(
      `Appointment/${done.id}/$submit-feedback`,
      params([{ name: 'response', resource: answers(10) }])
    );
    expect(provider.status).toBe(403); // the system token is no patient
  });

  test.each([
    ['a score above 10', answers(11)],
    ['a fractional score', answers(7.5)],
    ['no score', { ...answers(5), item: [{ linkId: 'comment', answer: [{ valueString: 'ok' }] }] }],
    ['a satisfaction outside 1-5', answers(6, [{ linkId: 'satisfaction', answer: [{ valueInteger: 9 }] }])],
    ['an item the form does not have', answers(6, [{ linkId: 'price', answer: [{ valueInteger: 1 }] }])],
  ])('%s is refused (422 feedback-invalid) and rates nothing', async (_what, response) => {
    const eve = await patient(s, 'Eve');
    const done = await visit(eve, 'fulfilled');
    const before = await ratingOf(roleId);
    const res = await submit(eve, done.id, response);
    expect([res.status, ruleOf(res.body)]).toEqual([422, 'feedback-invalid']);
    expect(await ratingOf(roleId)).toEqual(before);
  });

  test('a visit with no listed provider has nothing to rate (422 visit-not-listed)', async () => {
    const fay = await patient(s, 'Fay');
    const orgOnly = await visit(fay, 'fulfilled', `Location/${refs.locationId}`);
    const res = await submit(fay, orgOnly.id, answers(8));
    expect([res.status, ruleOf(res.body)]).toEqual([422, 'visit-not-listed']);
  });

  test('feedback cannot be written through REST (403), so a visit cannot be counted twice', async () => {
    const gus = await patient(s, 'Gus');
    const forged = await s.post<OperationOutcome>(
      'QuestionnaireResponse',
      {
        ...answers(10),
        subject: { reference: gus.ref },
        identifier: { system: FEEDBACK_IDENTIFIER_SYSTEM, value: 'x' },
      },
      as(gus.token)
    );
    expect(forged.status).toBe(403);
  });

  test('concurrent feedback: each visit counts exactly once and every score reaches the rating', async () => {
    const fresh = await s.create(providerListing(refs));
    const people = await Promise.all(Array.from({ length: 8 }, (_, i) => patient(s, `Concurrent${i}`)));
    const visits = await Promise.all(people.map((p) => visit(p, 'fulfilled', `PractitionerRole/${fresh.id}`)));
    const scores = people.map((_, i) => i + 3); // 3..10
    const attempts = people.flatMap((p, i) =>
      [0, 1, 2].map(() => ({ p, id: (visits[i] as Appointment).id as string, score: scores[i] as number }))
    );
    const results = await Promise.all(attempts.map((a) => submit(a.p, a.id, answers(a.score))));
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((x) => x === 200)).toHaveLength(8);
    expect(statuses.filter((x) => x === 409)).toHaveLength(16);
    const total = scores.reduce((a, b) => a + b, 0);
    expect(await ratingOf(fresh.id)).toEqual({ mean: Math.round((total / 8) * 100) / 100, count: 8, total });
    const stored = await s.search(
      `QuestionnaireResponse?identifier=${encodeURIComponent(FEEDBACK_IDENTIFIER_SYSTEM + '|')}&_count=100&_summary=count`
    );
    expect(stored.total).toBe(10); // 8 here, 2 before
  });

  test('listings sort by rating, the best first', async () => {
    const found = await s.search('PractitionerRole?_sort=-rating&_count=3');
    const means = (found.entry ?? []).map(
      (e) =>
        (e.resource as PractitionerRole).extension?.find((x) => x.url === LISTING_EXTENSIONS.rating)?.extension?.[0]
          ?.valueDecimal
    );
    expect(means).toEqual([...means].sort((a, b) => (b ?? -1) - (a ?? -1)));
    expect(means[0]).toBeDefined();
  });
});
