import type { OperationOutcome, PractitionerRole, Task } from '@medplum/fhirtypes';
import type { Person } from '../scheduling/test-fixtures';
import { as, params, patient, provider, ruleOf } from '../scheduling/test-fixtures';
import type { TestServer } from '../test/test-server';
import { startTestServer } from '../test/test-server';
import { sharingConsent } from '../test/consent-fixtures';
import { flag, locationAt, providerListing } from './listing-examples';
import { LISTING_EXTENSIONS } from './vocabulary';

describe('visit requests to a provider not accepting new patients', () => {
  let s: TestServer;
  let dr: Person;
  let closedRole: string;
  let openRole: string;

  beforeAll(async () => {
    s = await startTestServer();
    dr = await provider(s, 'Ngata');
    const organizationId = (await s.create({ resourceType: 'Organization', name: 'Harbour Health' })).id;
    const locationId = (await s.create(locationAt('Wellington', -41.2865, 174.7762))).id;
    const refs = { practitionerId: dr.id, organizationId, locationId };
    const listing = (accepting: boolean): PractitionerRole =>
      providerListing(refs, { extension: [flag(LISTING_EXTENSIONS.acceptingNewPatients, accepting)] });
    closedRole = (await s.create(listing(false))).id;
    const other = await provider(s, 'Rangi');
    openRole = (await s.create(providerListing({ ...refs, practitionerId: other.id }))).id;
  });

  afterAll(async () => {
    await s?.stop();
  });

  const ask = (who: Person, to: string) =>
    s.post<Task | OperationOutcome>(
      'Task/$request-visit',
      params([
        { name: 'provider', valueReference: { reference: to } },
        { name: 'reason', valueString: 'Check-up' },
        { name: 'severity', valueCode: 'routine' },
      ]),
      as(who.token)
    );

  test('a new patient is refused with 422 not-accepting-new-patients, and nothing is stored', async () => {
    const newcomer = await patient(s, 'Newcomer');
    const res = await ask(newcomer, `PractitionerRole/${closedRole}`);
    expect([res.status, ruleOf(res.body)]).toEqual([422, 'not-accepting-new-patients']);
    expect((await s.search(`Task?owner=PractitionerRole/${closedRole}&_summary=count`)).total).toBe(0);
  });

  test('a patient with a past visit may still ask', async () => {
    const regular = await patient(s, 'Regular');
    await s.create({
      resourceType: 'Appointment',
      status: 'fulfilled',
      start: '2026-01-05T09:00:00Z',
      end: '2026-01-05T09:30:00Z',
      participant: [
        { actor: { reference: regular.ref }, status: 'accepted' },
        { actor: { reference: dr.ref }, status: 'accepted' },
      ],
    });
    expect((await ask(regular, `PractitionerRole/${closedRole}`)).status).toBe(201);
  });

  test('a patient who shares their record with the provider may still ask', async () => {
    const shared = await patient(s, 'Shared');
    await s.create(sharingConsent({ patient: shared.id, actor: { reference: dr.ref }, categories: ['all'] }));
    const res = await ask(shared, `PractitionerRole/${closedRole}`);
    expect(res.status).toBe(201);
  });

  test('a provider accepting new patients (or not saying) takes anyone', async () => {
    const anyone = await patient(s, 'Anyone');
    expect((await ask(anyone, `PractitionerRole/${openRole}`)).status).toBe(201);
  });
});
