import type {
  Binary,
  DocumentReference,
  HealthcareService,
  Organization,
  Practitioner,
  PractitionerRole,
  Task,
} from '@medplum/fhirtypes';
import { parseSearchRequest } from '@medplum/core';
import { sql } from '../../../db/sql';
import { createAdminAccount } from '../admin';
import { authenticatePassword } from '../login';
import type { AccountsHarness } from '../test-support';
import { STRONG_PASSWORD, linkIn, startAccountsHarness, tokenOf, uniqueEmail } from '../test-support';
import { approveApplication, getApplicationForAccount, listPendingApplications, rejectApplication } from './review';

const PDF = Buffer.from('%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n').toString('base64');
const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]).toString('base64');

let h: AccountsHarness;
let adminId: string;
beforeAll(async () => {
  h = await startAccountsHarness();
  adminId = (await createAdminAccount(h.s.hale.db, 'reviewer@hale.example', 'granite meadow lantern 88')).id;
});
afterAll(async () => {
  await h.stop();
});

function provider(email: string, licenseNumber: string): Record<string, unknown> {
  return {
    name: { given: ['Wiremu'], family: 'Parata' },
    email,
    password: STRONG_PASSWORD,
    phone: '+64215550101',
    licenseNumber,
    specialty: 'Cardiology',
    qualifications: ['MBChB', 'FRACP'],
    hospitalAffiliation: 'Auckland City Hospital',
    practiceLocation: '2 Park Road, Grafton, Auckland',
    licenseDocument: { contentType: 'application/pdf', data: PDF, title: 'Practising certificate 2025' },
  };
}

function partner(email: string, registrationNumber: string, kind = 'pharmacy'): Record<string, unknown> {
  return {
    businessName: 'Harbour Pharmacy',
    kind,
    registrationNumber,
    ownerName: 'Ana Tupou',
    email,
    password: STRONG_PASSWORD,
    phone: '+6495550199',
    location: '10 Queen Street, Auckland',
    operatingHours: [
      { daysOfWeek: ['mon', 'tue', 'wed', 'thu', 'fri'], openingTime: '08:30', closingTime: '18:00' },
      { daysOfWeek: ['sat'], openingTime: '09:00', closingTime: '13:00' },
    ],
    services: ['Dispensing', 'Vaccinations'],
    documents: [
      { contentType: 'application/pdf', data: PDF, title: 'Pharmacy licence' },
      { contentType: 'image/png', data: PNG, title: 'Premises photo' },
    ],
  };
}

async function applicationOf(email: string) {
  const [row] = await h.s.hale.db.query<{ id: string; status: string; roles: string[]; profile_id: string | null }>(
    sql`SELECT id, status, roles, profile_id FROM account WHERE email = ${email}`
  );
  const app = await getApplicationForAccount(h.deps, row?.id as string);
  const task = await h.deps.systemRepository().readResource<Task>('Task', app?.taskId as string);
  return { row, app, task };
}

async function verify(email: string): Promise<void> {
  const token = tokenOf(linkIn(await h.mail.waitFor(email), `${h.s.hale.url}/auth/verify-email`));
  expect((await h.post('/auth/verify-email', { token })).status).toBe(200);
}

describe('provider applications', () => {
  test('create a pending account, inactive Practitioner and PractitionerRole, the licence document and a Task', async () => {
    const email = uniqueEmail('dr');
    const res = await h.post('/auth/apply/provider', provider(email, 'MC-40112'));
    expect(res.status).toBe(202);
    const { row, app, task } = await applicationOf(email);
    expect(row).toMatchObject({ status: 'pending', roles: ['provider'] });
    expect(app).toMatchObject({ kind: 'provider', status: 'pending', number: 'MC-40112', email });

    expect(task).toMatchObject({
      status: 'requested',
      intent: 'order',
      code: { coding: [{ system: 'https://hale.health/fhir/CodeSystem/task-code', code: 'credential-verification' }] },
    });
    expect(task.owner).toBeUndefined();
    const repo = h.deps.systemRepository();
    const role = await repo.readResource<PractitionerRole>(
      'PractitionerRole',
      task.focus?.reference?.split('/')[1] as string
    );
    expect(role).toMatchObject({ active: false, specialty: [{ text: 'Cardiology' }] });
    expect(role.organization?.display).toBe('Auckland City Hospital');
    const practitioner = await repo.readResource<Practitioner>('Practitioner', row?.profile_id as string);
    expect(role.practitioner?.reference).toBe(`Practitioner/${practitioner.id}`);
    expect(practitioner.active).toBe(false);
    expect(practitioner.identifier?.[0]).toMatchObject({ value: 'MC-40112' });
    expect(practitioner.qualification?.map((q) => q.code.text)).toEqual(['Licence to practise', 'MBChB', 'FRACP']);

    const docRef = task.input?.[0]?.valueReference?.reference as string;
    const doc = await repo.readResource<DocumentReference>('DocumentReference', docRef.split('/')[1] as string);
    expect(doc.subject?.reference).toBe(`Practitioner/${practitioner.id}`);
    expect(doc.author?.[0]?.reference).toBe(`Practitioner/${practitioner.id}`);
    const binaryId = doc.content[0]?.attachment.url?.split('/')[1] as string;
    const binary = await repo.readResource<Binary>('Binary', binaryId);
    expect(Buffer.from(binary.data as string, 'base64').toString()).toContain('%PDF-1.4');

    expect((await h.mail.waitFor(email)).subject).toBe('Confirm your email address for Hale');
  });

  test('a licence number already applied with is refused with 409, whatever its spelling', async () => {
    expect((await h.post('/auth/apply/provider', provider(uniqueEmail('dr'), 'NZ 77001'))).status).toBe(202);
    const again = await h.post('/auth/apply/provider', provider(uniqueEmail('dr'), 'nz-77001'));
    expect(again.status).toBe(409);
    expect(again.body.issue[0].details.text).toBe('An application with this licence number already exists');
  });

  test('a document that is not what its type says is refused', async () => {
    const body = provider(uniqueEmail('dr'), 'MC-99999');
    body.licenseDocument = { contentType: 'application/pdf', data: PNG, title: 'x' };
    expect((await h.post('/auth/apply/provider', body)).status).toBe(400);
  });

  test('approval activates the provider, completes the Task and mails the applicant; a pending one signs in as pending', async () => {
    const email = uniqueEmail('dr');
    await h.post('/auth/apply/provider', provider(email, 'MC-50001'));
    await verify(email);
    expect((await authenticatePassword(h.deps, email, STRONG_PASSWORD, '127.0.0.1')).status).toBe('pending');
    const { app } = await applicationOf(email);
    expect((await listPendingApplications(h.deps)).map((a) => a.taskId)).toContain(app?.taskId);

    const decided = await approveApplication(h.deps, app?.taskId as string, adminId);
    expect(decided).toMatchObject({ status: 'approved', reason: null });
    const { row, task } = await applicationOf(email);
    expect(row?.status).toBe('active');
    expect(task).toMatchObject({ status: 'completed', businessStatus: { text: 'approved' } });
    const repo = h.deps.systemRepository();
    expect((await repo.readResource<Practitioner>('Practitioner', row?.profile_id as string)).active).toBe(true);
    const roleId = task.focus?.reference?.split('/')[1] as string;
    expect((await repo.readResource<PractitionerRole>('PractitionerRole', roleId)).active).toBe(true);
    expect((await h.mail.waitFor(email, 2)).subject).toBe('Your Hale application was approved');
    expect((await authenticatePassword(h.deps, email, STRONG_PASSWORD, '127.0.0.1')).status).toBe('active');
    expect((await listPendingApplications(h.deps)).map((a) => a.taskId)).not.toContain(app?.taskId);

    await expect(approveApplication(h.deps, app?.taskId as string, adminId)).rejects.toThrow('already approved');
  });

  test('rejection records the reason on the Task and the account, and mails it', async () => {
    const email = uniqueEmail('dr');
    await h.post('/auth/apply/provider', provider(email, 'MC-50002'));
    const { app } = await applicationOf(email);
    const reason = 'The licence number does not match the register.';
    expect(await rejectApplication(h.deps, app?.taskId as string, adminId, reason)).toMatchObject({
      status: 'rejected',
      reason,
    });
    const { row, task } = await applicationOf(email);
    expect(row?.status).toBe('rejected');
    expect(task).toMatchObject({ status: 'rejected', statusReason: { text: reason } });
    const mail = await h.mail.waitFor(email, 2);
    expect(mail.subject).toBe('Your Hale application');
    expect(mail.text).toContain(reason);
    // The number may be applied with again once rejected.
    expect((await h.post('/auth/apply/provider', provider(uniqueEmail('dr'), 'MC-50002'))).status).toBe(202);
  });

  test('only an active admin may decide, and an unknown Task is 404', async () => {
    const email = uniqueEmail('dr');
    await h.post('/auth/apply/provider', provider(email, 'MC-50003'));
    const { row, app } = await applicationOf(email);
    await expect(approveApplication(h.deps, app?.taskId as string, row?.id as string)).rejects.toThrow(
      'Only an active admin account may review applications'
    );
    await expect(approveApplication(h.deps, 'no-such-task', adminId)).rejects.toThrow('Not found');
  });
});

describe('pharmacy and lab applications', () => {
  test('create an inactive Organization and HealthcareService with documents; approval activates both', async () => {
    const email = uniqueEmail('pharmacy');
    expect((await h.post('/auth/apply/partner', partner(email, 'PH-2231'))).status).toBe(202);
    const { row, app, task } = await applicationOf(email);
    expect(row).toMatchObject({ status: 'pending', roles: ['partner'] });
    expect(app?.kind).toBe('pharmacy');
    const repo = h.deps.systemRepository();
    const orgId = task.focus?.reference?.split('/')[1] as string;
    const org = await repo.readResource<Organization>('Organization', orgId);
    expect(org).toMatchObject({
      active: false,
      name: 'Harbour Pharmacy',
      address: [{ text: '10 Queen Street, Auckland' }],
    });
    expect(org.type?.[0]?.coding?.[0]).toMatchObject({ code: 'pharmacy' });
    const [account] = await h.s.hale.db.query<{ organization_id: string }>(
      sql`SELECT organization_id FROM account WHERE email = ${email}`
    );
    expect(account?.organization_id).toBe(orgId);
    expect(task.input).toHaveLength(2);
    const services = await repo.searchResources(
      parseSearchRequest<HealthcareService>(`HealthcareService?organization=Organization/${orgId}`)
    );
    expect(services[0]).toMatchObject({ active: false, type: [{ text: 'Dispensing' }, { text: 'Vaccinations' }] });
    expect(services[0]?.availableTime?.[0]).toMatchObject({
      availableStartTime: '08:30:00',
      availableEndTime: '18:00:00',
    });

    await approveApplication(h.deps, task.id, adminId);
    expect((await repo.readResource<Organization>('Organization', orgId)).active).toBe(true);
    const [service] = await repo.searchResources(
      parseSearchRequest<HealthcareService>(`HealthcareService?organization=Organization/${orgId}`)
    );
    expect(service?.active).toBe(true);
  });

  test('a lab registration number is unique among labs', async () => {
    expect((await h.post('/auth/apply/partner', partner(uniqueEmail('lab'), 'LAB-1', 'lab'))).status).toBe(202);
    expect((await h.post('/auth/apply/partner', partner(uniqueEmail('lab'), 'lab 1', 'lab'))).status).toBe(409);
    expect((await h.post('/auth/apply/partner', partner(uniqueEmail('ph'), 'LAB-1', 'pharmacy'))).status).toBe(202);
  });
});

describe('the review API over HTTP', () => {
  test.each([
    ['GET', '/auth/admin/applications'],
    ['POST', '/auth/admin/applications/some-task/approve'],
    ['POST', '/auth/admin/applications/some-task/reject'],
    ['GET', '/auth/me/application'],
  ])('%s %s answers 401 without a token', async (method, path) => {
    const res = await h.s.request(method, `${h.s.hale.url}${path}`, method === 'POST' ? { reason: 'x' } : undefined, {
      authorization: '',
    });
    expect(res.status).toBe(401);
    expect(res.body.resourceType).toBe('OperationOutcome');
  });
});

describe('review over HTTP with real access tokens', () => {
  test('an admin token lists, approves; other tokens are refused; the applicant sees the status', async () => {
    const email = uniqueEmail('dr-http');
    expect((await h.post('/auth/apply/provider', provider(email, 'HTTP-5150'))).status).toBe(202);
    const applicant = await h.s.hale.db.query<{ id: string }>(
      sql`UPDATE account SET email_verified = true WHERE lower(email) = lower(${email}) RETURNING id`
    );
    // A pending applicant gets no tokens at all; a verified patient's token is not an admin's.
    const patient = uniqueEmail('patient-http');
    const patientId = (
      await h.s.hale.db.query<{ id: string }>(sql`INSERT INTO account (id, email, email_verified, status, roles)
      VALUES (gen_random_uuid(), ${patient}, true, 'active', '{patient}') RETURNING id`)
    )[0]?.id as string;
    const patientToken = await h.s.token({ scopes: ['user/*.rs'], accountId: patientId });
    const adminToken = await h.s.token({ scopes: ['user/*.rs'], accountId: adminId });
    const get = (path: string, token: string | undefined) =>
      h.s.request('GET', `${h.s.hale.url}${path}`, undefined, { authorization: token ? `Bearer ${token}` : '' });
    const post = (path: string, token: string) =>
      h.s.request(
        'POST',
        `${h.s.hale.url}${path}`,
        {},
        { authorization: `Bearer ${token}`, 'content-type': 'application/json' }
      );

    expect((await get('/auth/admin/applications', undefined)).status).toBe(401);
    expect((await get('/auth/admin/applications', patientToken)).status).toBe(403);
    const list = await get('/auth/admin/applications', adminToken);
    expect(list.status).toBe(200);
    const mine = (list.body as { applications: { taskId: string; email: string }[] }).applications.find(
      (a) => a.email === email
    );
    expect(mine).toBeDefined();
    expect((await post(`/auth/admin/applications/${mine?.taskId}/approve`, patientToken)).status).toBe(403);
    const approved = await post(`/auth/admin/applications/${mine?.taskId}/approve`, adminToken);
    expect(approved.status).toBe(200);
    const applicantToken = await h.s.token({ scopes: ['user/Practitioner.rs'], accountId: applicant[0]?.id });
    const status = await get('/auth/me/application', applicantToken);
    expect(status.status).toBe(200);
    expect((status.body as { status: string }).status).toBe('approved');
  });
});
