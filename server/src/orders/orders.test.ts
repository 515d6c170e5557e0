import type { Bundle, DiagnosticReport, Organization, Parameters, ServiceRequest } from '@medplum/fhirtypes';
import type { Person } from '../scheduling/test-fixtures';
import { as, params, patient, provider, ruleOf } from '../scheduling/test-fixtures';
import { account, observation, sharingConsent, userToken } from '../test/consent-fixtures';
import type { TestServer } from '../test/test-server';
import { startTestServer } from '../test/test-server';
import { ORDER_TAG } from './vocabulary';

let s: TestServer;
let dr: Person;
let stranger: Person;
let alice: Person;
let bob: Person;
let lab: Organization & { id: string };
let tech: Person;
let rivalTech: Person;
let vitalsId: string;
let labObsId: string;
let bobObsId: string;

const GLUCOSE = { coding: [{ system: 'http://loinc.org', code: '2339-0', display: 'Glucose' }] };

/** A partner's staff member: a Practitioner with an active PractitionerRole at the Organization. */
async function staffOf(org: Organization & { id: string }, family: string): Promise<Person> {
  const p = await s.create({ resourceType: 'Practitioner', name: [{ family }] });
  await s.create({
    resourceType: 'PractitionerRole',
    active: true,
    practitioner: { reference: `Practitioner/${p.id}` },
    organization: { reference: `Organization/${org.id}` },
  });
  const token = await userToken(s, await account(s, ['provider'], { type: 'Practitioner', id: p.id }));
  return { id: p.id, ref: `Practitioner/${p.id}`, token };
}

beforeAll(async () => {
  s = await startTestServer();
  dr = await provider(s, 'Orderer');
  stranger = await provider(s, 'Stranger');
  alice = await patient(s, 'Alice');
  bob = await patient(s, 'Bob');
  lab = await s.create<Organization>({ resourceType: 'Organization', active: true, name: 'Acme Lab' });
  const rival = await s.create<Organization>({ resourceType: 'Organization', active: true, name: 'Rival Lab' });
  tech = await staffOf(lab, 'Tech');
  rivalTech = await staffOf(rival, 'Rival');
  await s.create(sharingConsent({ patient: alice.id, actor: { reference: dr.ref } }));
  vitalsId = (await s.create(observation(alice.id, 'vital-signs', '2026-01-02T00:00:00Z'))).id;
  labObsId = (await s.create(observation(alice.id, 'laboratory', '2026-01-02T00:00:00Z'))).id;
  bobObsId = (await s.create(observation(bob.id, 'laboratory', '2026-01-02T00:00:00Z'))).id;
}, 60_000);

afterAll(async () => {
  await s?.stop();
});

type Order = ServiceRequest & { id: string };

function order(token: string, extra: Parameters['parameter'] = [], who: Person = alice) {
  return s.post<Order>(
    'ServiceRequest/$order',
    params([
      { name: 'patient', valueReference: { reference: who.ref } },
      { name: 'performer', valueReference: { reference: `Organization/${lab.id}` } },
      { name: 'code', valueCodeableConcept: GLUCOSE },
      ...(extra ?? []),
    ]),
    as(token)
  );
}

async function placed(extra: Parameters['parameter'] = []): Promise<Order> {
  const res = await order(dr.token, extra);
  expect(res.status).toBe(201);
  return res.body;
}

const step = (token: string, id: string, name: string, parameter: Parameters['parameter'] = []) =>
  s.post(`ServiceRequest/${id}/$${name}`, params(parameter ?? []), as(token));
const revoke = (token: string, id: string) =>
  step(token, id, 'revoke', [{ name: 'reason', valueString: 'Not needed' }]);

function report(extra: Partial<DiagnosticReport> = {}): DiagnosticReport {
  return {
    resourceType: 'DiagnosticReport',
    status: 'final',
    code: GLUCOSE,
    contained: [
      {
        resourceType: 'Observation',
        id: 'glucose',
        status: 'final',
        code: GLUCOSE,
        valueQuantity: { value: 5.4, unit: 'mmol/L', system: 'http://unitsofmeasure.org', code: 'mmol/L' },
      },
    ],
    result: [{ reference: '#glucose' }],
    ...extra,
  };
}
const submit = (token: string, id: string, r: DiagnosticReport = report()) =>
  step(token, id, 'submit-result', [{ name: 'report', resource: r }]);
const reportsOf = async (id: string) => (await s.search(`DiagnosticReport?based-on=ServiceRequest/${id}`)).entry ?? [];

describe('placing an order', () => {
  test('a provider with a relationship orders: active, tagged, requester and performer set', async () => {
    const o = await placed([
      { name: 'priority', valueCode: 'urgent' },
      { name: 'reason', valueString: 'Fatigue' },
    ]);
    expect(o).toMatchObject({
      status: 'active',
      intent: 'order',
      priority: 'urgent',
      subject: { reference: alice.ref },
      requester: { reference: dr.ref },
      performer: [{ reference: `Organization/${lab.id}` }],
      reasonCode: [{ text: 'Fatigue' }],
    });
    expect(o.meta?.tag).toEqual(expect.arrayContaining([expect.objectContaining(ORDER_TAG)]));
  });

  test('refused: a provider without a relationship, a patient, and a forged or unknown performer', async () => {
    expect((await order(stranger.token)).status).toBe(403);
    expect((await order(alice.token)).status).toBe(403);
    expect((await order(dr.token, [], bob)).status).toBe(403); // Bob shares nothing with the provider
    const asPatient = await s.post(
      'ServiceRequest/$order',
      params([
        { name: 'patient', valueReference: { reference: alice.ref } },
        { name: 'performer', valueReference: { reference: bob.ref } },
        { name: 'code', valueCodeableConcept: GLUCOSE },
      ]),
      as(dr.token)
    );
    expect(asPatient.status).toBe(400);
    const unknown = await s.post(
      'ServiceRequest/$order',
      params([
        { name: 'patient', valueReference: { reference: alice.ref } },
        { name: 'performer', valueReference: { reference: 'Organization/no-such-lab' } },
        { name: 'code', valueCodeableConcept: GLUCOSE },
      ]),
      as(dr.token)
    );
    expect(unknown.status).toBe(400);
    expect((await s.search(`ServiceRequest?subject=${bob.ref}`)).entry ?? []).toHaveLength(0);
  });

  test('REST writes of an order are refused, and a REST-made ServiceRequest grants its performer nothing', async () => {
    const o = await placed();
    expect((await s.put(`ServiceRequest/${o.id}`, { ...o, status: 'completed' }, as(dr.token))).status).toBe(403);
    const forged = await s.post('ServiceRequest', { ...o, id: undefined, meta: { tag: [ORDER_TAG] } }, as(alice.token));
    expect(forged.status).toBe(403);
    // Alice may write her own record, but an untagged ServiceRequest is no order of the workflow.
    const own = await s.post<Order>(
      'ServiceRequest',
      {
        resourceType: 'ServiceRequest',
        status: 'active',
        intent: 'order',
        code: GLUCOSE,
        subject: { reference: alice.ref },
        performer: [{ reference: `Organization/${lab.id}` }],
      },
      as(alice.token)
    );
    expect(own.status).toBe(201);
    expect((await s.get(`ServiceRequest/${own.body.id}`, as(tech.token))).status).toBe(404);
  });
});

describe('what the partner sees', () => {
  test('its staff read the active order and the patient, nothing else; another lab nothing; it ends with the order', async () => {
    const o = await placed();
    expect((await s.get(`ServiceRequest/${o.id}`, as(tech.token))).status).toBe(200);
    expect((await s.get(`Patient/${alice.id}`, as(tech.token))).status).toBe(200);
    expect((await s.get(`Observation/${labObsId}`, as(tech.token))).status).toBe(404);
    expect((await s.get(`Observation/${vitalsId}`, as(tech.token))).status).toBe(404);
    const found = await s.get<Bundle>(`ServiceRequest?performer=Organization/${lab.id}&status=active`, as(tech.token));
    expect((found.body.entry ?? []).map((e) => e.resource?.id)).toContain(o.id);
    expect((await s.get(`ServiceRequest/${o.id}`, as(rivalTech.token))).status).toBe(404);
    expect((await s.get(`Patient/${alice.id}`, as(rivalTech.token))).status).toBe(404);
    // An order is not a relationship: the lab cannot assign the patient forms through it.
    const intake = await s.post(
      'Task/$assign-intake',
      params([
        { name: 'patient', valueReference: { reference: alice.ref } },
        { name: 'questionnaire', valueReference: { reference: 'Questionnaire/none' } },
      ]),
      as(tech.token)
    );
    expect(intake.status).toBe(403);
    // $my-patients names the order as the basis and the one resource shared, not the whole record.
    const mine = (await s.get<Parameters>('Practitioner/$my-patients', as(tech.token))).body;
    const share = mine.parameter
      ?.find((p) => p.part?.some((x) => x.valueReference?.reference === alice.ref))
      ?.part?.find(
        (x) => x.name === 'share' && x.part?.some((y) => y.valueString?.startsWith(`ServiceRequest/${o.id}/`))
      );
    expect(share?.part?.filter((x) => x.name === 'category')).toEqual([]);
    expect(share?.part?.find((x) => x.name === 'resource')?.valueReference?.reference).toBe(`ServiceRequest/${o.id}`);
    expect((await revoke(dr.token, o.id)).status).toBe(200);
    expect((await s.get(`ServiceRequest/${o.id}`, as(tech.token))).status).toBe(404);
  });

  test("the patient's Consent to the lab adds what it shares (labs), and only that", async () => {
    const consent = await s.create(
      sharingConsent({ patient: alice.id, actor: { reference: `Organization/${lab.id}` }, categories: ['labs'] })
    );
    expect((await s.get(`Observation/${labObsId}`, as(tech.token))).status).toBe(200);
    expect((await s.get(`Observation/${vitalsId}`, as(tech.token))).status).toBe(404);
    await s.request('DELETE', `Consent/${consent.id}`);
    expect((await s.get(`Observation/${labObsId}`, as(tech.token))).status).toBe(404);
  });
});

describe('status flow', () => {
  test('draft → active → revoked; illegal steps get 409 order-transition; only the requester or patient revokes', async () => {
    const o = await placed([{ name: 'draft', valueBoolean: true }]);
    expect(o.status).toBe('draft');
    expect((await s.get(`ServiceRequest/${o.id}`, as(tech.token))).status).toBe(404); // a draft is not sent
    expect((await step(tech.token, o.id, 'activate')).status).toBe(403);
    expect((await step(dr.token, o.id, 'activate')).status).toBe(200);
    const again = await step(dr.token, o.id, 'activate');
    expect([again.status, ruleOf(again.body)]).toEqual([409, 'order-transition']);
    expect((await revoke(tech.token, o.id)).status).toBe(403);
    expect((await revoke(stranger.token, o.id)).status).toBe(404);
    const revoked = await revoke(alice.token, o.id);
    expect(revoked.status).toBe(200);
    expect((revoked.body as ServiceRequest).note?.at(-1)?.text).toBe('Revoked: Not needed');
    expect(ruleOf((await revoke(dr.token, o.id)).body)).toBe('order-transition');
    const late = await submit(tech.token, o.id);
    expect([late.status, ruleOf(late.body)]).toEqual([409, 'order-transition']);
  });
});

describe('results', () => {
  test('the lab hands in a final report: linked to the order and the patient, the order completed', async () => {
    const o = await placed();
    const prelim = await submit(tech.token, o.id, report({ status: 'preliminary' }));
    expect(prelim.status).toBe(200);
    expect((await s.get<ServiceRequest>(`ServiceRequest/${o.id}`)).body.status).toBe('active');
    const res = await submit(tech.token, o.id);
    expect(res.status).toBe(200);
    const out = res.body as Parameters;
    const dr1 = out.parameter?.find((p) => p.name === 'report')?.resource as DiagnosticReport;
    expect(dr1).toMatchObject({
      status: 'final',
      subject: { reference: alice.ref },
      basedOn: [{ reference: `ServiceRequest/${o.id}` }],
    });
    expect(dr1.performer?.map((p) => p.reference)).toEqual([`Organization/${lab.id}`, tech.ref]);
    expect((out.parameter?.find((p) => p.name === 'serviceRequest')?.resource as ServiceRequest).status).toBe(
      'completed'
    );
    expect(await reportsOf(o.id)).toHaveLength(2);
    // The provider who ordered reads the result under the patient's Consent.
    expect((await s.get(`DiagnosticReport/${dr1.id}`, as(dr.token))).status).toBe(200);
    const twice = await submit(tech.token, o.id);
    expect([twice.status, ruleOf(twice.body)]).toEqual([409, 'order-transition']);
  });

  test('forged results are refused with 422 result-mismatch and store nothing', async () => {
    const o = await placed();
    const other = await placed();
    for (const forged of [
      report({ subject: { reference: bob.ref } }),
      report({ basedOn: [{ reference: `ServiceRequest/${other.id}` }] }),
      report({ result: [{ reference: `Observation/${bobObsId}` }] }),
      report({ specimen: [{ reference: 'Specimen/elsewhere' }] }),
    ]) {
      const res = await submit(tech.token, o.id, forged);
      expect([res.status, ruleOf(res.body)]).toEqual([422, 'result-mismatch']);
    }
    const notAReport = await step(tech.token, o.id, 'submit-result', [
      { name: 'report', resource: { resourceType: 'Observation', status: 'final', code: GLUCOSE } },
    ]);
    expect(notAReport.status).toBe(400);
    expect(await reportsOf(o.id)).toHaveLength(0);
    expect((await s.get<ServiceRequest>(`ServiceRequest/${o.id}`)).body.status).toBe('active');
  });

  test('only the performer hands in results: another lab 404, the requester 403', async () => {
    const o = await placed();
    expect((await submit(rivalTech.token, o.id)).status).toBe(404);
    expect((await submit(dr.token, o.id)).status).toBe(403);
    expect(await reportsOf(o.id)).toHaveLength(0);
  });

  test('four final reports at once: one completes the order, three get 409, one report stored', async () => {
    const o = await placed();
    const answers = await Promise.all(Array.from({ length: 4 }, () => submit(tech.token, o.id)));
    expect(answers.map((r) => r.status).sort()).toEqual([200, 409, 409, 409]);
    expect(await reportsOf(o.id)).toHaveLength(1);
  });
});
