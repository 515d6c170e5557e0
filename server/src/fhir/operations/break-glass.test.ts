import type { AuditEvent, Bundle, OperationOutcome, Parameters, Patient } from '@medplum/fhirtypes';
import type { MailCatcher } from '../../auth/accounts/test-support';
import { startMailCatcher } from '../../auth/accounts/test-support';
import { sql } from '../../db/sql';
import { account, observation, sharingConsent, userToken } from '../../test/consent-fixtures';
import type { TestServer } from '../../test/test-server';
import { startTestServer } from '../../test/test-server';

let s: TestServer;
let mail: MailCatcher;
let alice: string;
let aliceEmail: string;
let patientToken: string;
const ids: Record<string, string> = {};
const as = (token: string) => ({ authorization: `Bearer ${token}` });
const REASON = 'Unconscious in the emergency department, need allergies';

const breakGlass = (token: string, parameter: Parameters['parameter'], patient = alice) =>
  s.post<Parameters | OperationOutcome>(
    `Patient/${patient}/$break-glass`,
    { resourceType: 'Parameters', parameter },
    as(token)
  );

async function provider(name: string): Promise<{ id: string; token: string }> {
  const p = await s.create({ resourceType: 'Practitioner', name: [{ family: name }] });
  return { id: p.id, token: await userToken(s, await account(s, ['provider'], { type: 'Practitioner', id: p.id })) };
}

beforeAll(async () => {
  mail = await startMailCatcher();
  s = await startTestServer({ SMTP_URL: mail.url });
  alice = (await s.create<Patient>({ resourceType: 'Patient', name: [{ family: 'Emergency', given: ['Alice'] }] })).id;
  const accountId = await account(s, ['patient'], { type: 'Patient', id: alice });
  aliceEmail = `${accountId}@example.org`;
  patientToken = await userToken(s, accountId);
  ids.vitals = (await s.create(observation(alice, 'vital-signs', '2026-10-10'))).id;
  ids.allergy = (
    await s.create({
      resourceType: 'AllergyIntolerance',
      patient: { reference: `Patient/${alice}` },
      clinicalStatus: {
        coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: 'active' }],
      },
      code: { text: 'Penicillin' },
    })
  ).id;
  const lab = await s.create({ resourceType: 'Organization', name: 'Lab' });
  ids.consent = (
    await s.create(
      sharingConsent({ patient: alice, actor: { reference: `Organization/${lab.id}` }, categories: ['labs'] })
    )
  ).id;
}, 60_000);

afterAll(async () => {
  await s?.stop();
  await mail?.stop();
});

describe('$break-glass', () => {
  test('a provider then sees the whole record but the access log and Consents, until expiry', async () => {
    const dr = await provider('Casualty');
    expect((await s.get(`AllergyIntolerance/${ids.allergy}`, as(dr.token))).status).toBe(404);
    const res = await breakGlass(dr.token, [
      { name: 'reason', valueString: REASON },
      { name: 'minutes', valueInteger: 30 },
    ]);
    expect(res.status).toBe(200);
    const declared = res.body as Parameters;
    const id = declared.parameter?.find((p) => p.name === 'id')?.valueString as string;
    const expires = Date.parse(declared.parameter?.find((p) => p.name === 'expires')?.valueInstant as string);
    expect(Math.round((expires - Date.now()) / 60_000)).toBe(30);

    expect((await s.get(`AllergyIntolerance/${ids.allergy}`, as(dr.token))).status).toBe(200);
    expect((await s.get(`Observation/${ids.vitals}`, as(dr.token))).status).toBe(200);
    expect((await s.get(`Consent/${ids.consent}`, as(dr.token))).status).toBe(404);

    const [row] = await s.hale.db.query<{ actor: string; reason: string }>(
      sql`SELECT actor, reason FROM break_glass WHERE id = ${id}::uuid`
    );
    expect(row).toEqual({ actor: `Practitioner/${dr.id}`, reason: REASON });

    // Expired (moved into the past here; a Practitioner write drops cached grants) means nothing is visible.
    await s.hale.db.query(sql`UPDATE break_glass SET expires_at = now() - interval '1 second' WHERE id = ${id}::uuid`);
    await s.create({ resourceType: 'Practitioner', name: [{ family: 'CacheBuster' }] });
    expect((await s.get(`AllergyIntolerance/${ids.allergy}`, as(dr.token))).status).toBe(404);
  });

  test('the patient finds the declaration, with who and why, in their access log', async () => {
    const dr = await provider('Audited');
    await breakGlass(dr.token, [{ name: 'reason', valueString: REASON }]);
    const log = await s.get<Bundle<AuditEvent>>(`AuditEvent?patient=${alice}&subtype=110127`, as(patientToken));
    expect(log.status).toBe(200);
    const event = (log.body.entry ?? [])
      .map((e) => e.resource)
      .find((e) => e?.agent?.[0]?.who?.reference === `Practitioner/${dr.id}`);
    expect(event?.purposeOfEvent?.[0]?.coding?.[0]?.code).toBe('ETREAT');
    expect(event?.purposeOfEvent?.[0]?.text).toBe(REASON);
    expect(event?.agent?.[0]?.purposeOfUse?.[0]?.coding?.[0]).toMatchObject({
      system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason',
      code: 'ETREAT',
    });
  });

  test('the patient is told by email, without who, why or any health data', async () => {
    const before = mail.to(aliceEmail).length;
    const dr = await provider('Mailer');
    await breakGlass(dr.token, [{ name: 'reason', valueString: REASON }]);
    const got = await mail.waitFor(aliceEmail, before + 1);
    expect(got.text).toContain('emergency');
    expect(got.text).toContain('Sign in');
    for (const secret of [REASON, 'Mailer', dr.id, 'Penicillin', 'Alice']) {
      expect(got.text).not.toContain(secret);
      expect(got.subject).not.toContain(secret);
    }
  });

  test('an administrator may declare too; the declaration names the admin', async () => {
    const adminAccount = await account(s, ['admin']);
    const res = await breakGlass(await userToken(s, adminAccount), [{ name: 'reason', valueString: REASON }]);
    expect(res.status).toBe(200);
    const [row] = await s.hale.db.query<{ actor: string }>(
      sql`SELECT actor FROM break_glass WHERE account_id = ${adminAccount}::uuid`
    );
    expect(row?.actor).toBe('admin');
  });

  test('the provider sees the patient in $my-patients with the break-glass basis', async () => {
    const dr = await provider('Listed');
    await breakGlass(dr.token, [{ name: 'reason', valueString: REASON }]);
    const listed = await s.get<Parameters>('Practitioner/$my-patients', as(dr.token));
    const share = listed.body.parameter?.[0]?.part?.find((p) => p.name === 'share');
    expect(share?.part?.find((p) => p.name === 'basis')?.valueString).toMatch(/^break-glass\//);
    expect(share?.part?.find((p) => p.name === 'category')?.valueCode).toBe('all');
  });

  test('patients cannot break glass (403)', async () => {
    const res = await breakGlass(patientToken, [{ name: 'reason', valueString: REASON }]);
    expect(res.status).toBe(403);
    const bob = (await s.create<Patient>({ resourceType: 'Patient', name: [{ family: 'Other' }] })).id;
    const bobToken = await userToken(s, await account(s, ['patient'], { type: 'Patient', id: bob }));
    expect((await breakGlass(bobToken, [{ name: 'reason', valueString: REASON }])).status).toBe(403);
    expect((await s.get(`AllergyIntolerance/${ids.allergy}`, as(bobToken))).status).toBe(404);
  });

  test.each([
    ['a reason under 10 characters', [{ name: 'reason', valueString: 'urgent' }]],
    ['no reason', []],
    [
      'more than 240 minutes',
      [
        { name: 'reason', valueString: REASON },
        { name: 'minutes', valueInteger: 241 },
      ],
    ],
  ] as [string, Parameters['parameter']][])('answers 400 for %s, and grants nothing', async (_name, parameter) => {
    const dr = await provider('Hasty');
    const res = await breakGlass(dr.token, parameter);
    expect(res.status).toBe(400);
    expect((await s.get(`AllergyIntolerance/${ids.allergy}`, as(dr.token))).status).toBe(404);
  });

  test('answers 404 for an unknown patient', async () => {
    const dr = await provider('Lost');
    expect((await breakGlass(dr.token, [{ name: 'reason', valueString: REASON }], 'nobody')).status).toBe(404);
  });
});
