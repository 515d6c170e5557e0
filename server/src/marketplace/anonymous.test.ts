import type { Bundle, OperationOutcome, Practitioner } from '@medplum/fhirtypes';
import { Browser } from '../auth/oauth/test-support';
import type { TestServer } from '../test/test-server';
import { startTestServer } from '../test/test-server';
import { locationAt, providerListing } from './listing-examples';

const anonymous = { authorization: '' }; // test-server: an empty header sends none

/** A random loopback address: counts left in Redis by an earlier or parallel run do not meet this one's. */
function loopback(): string {
  const octet = (): number => 1 + Math.floor(Math.random() * 254);
  return `127.${octet()}.${octet()}.${octet()}`;
}

const redisEnv: Record<string, string> = process.env.TEST_REDIS_URL ? { REDIS_URL: process.env.TEST_REDIS_URL } : {};

describe('anonymous marketplace directory', () => {
  let s: TestServer;
  let practitionerId: string;
  let roleId: string;
  let patientId: string;

  beforeAll(async () => {
    s = await startTestServer({ MARKETPLACE_ANONYMOUS_RATE_LIMIT_PER_MINUTE: '8', ...redisEnv });
    practitionerId = (
      await s.create<Practitioner>({
        resourceType: 'Practitioner',
        name: [{ family: 'Ngata', given: ['Aroha'] }],
        birthDate: '1979-04-02',
        address: [{ use: 'home', line: ['12 Private Road'] }],
        telecom: [{ system: 'phone', value: '+64 21 000 0000', use: 'mobile' }],
        qualification: [{ code: { text: 'MBChB' } }],
      })
    ).id;
    const organizationId = (await s.create({ resourceType: 'Organization', name: 'Harbour Health' })).id;
    const locationId = (await s.create(locationAt('Wellington', -41.2865, 174.7762))).id;
    roleId = (await s.create(providerListing({ practitionerId, organizationId, locationId }))).id;
    patientId = (await s.create({ resourceType: 'Patient', name: [{ family: 'Parata' }] })).id;
    await s.create({
      resourceType: 'Appointment',
      status: 'booked',
      start: '2026-03-02T09:00:00Z',
      end: '2026-03-02T09:30:00Z',
      participant: [
        { actor: { reference: `Patient/${patientId}` }, status: 'accepted' },
        { actor: { reference: `PractitionerRole/${roleId}` }, status: 'accepted' },
      ],
    });
  });

  afterAll(async () => {
    await s?.stop();
  });

  /** A fresh client address for each test, so the rate limit of one does not reach another. */
  const client = (): Browser => new Browser(s.base, loopback(), { accept: 'application/fhir+json' });
  const json = <T>(body: string): T => JSON.parse(body) as T;

  test('searches and reads the listing types without a token', async () => {
    const b = client();
    for (const path of [
      '/PractitionerRole?accepting-new-patients=true&near=-41.29|174.78|5|km&_sort=near',
      `/PractitionerRole/${roleId}`,
      '/HealthcareService',
      '/Location?near=-41.29|174.78|5|km',
      '/Organization?name=harbour',
      '/PractitionerRole?_include=PractitionerRole:location&location.near=-41.29|174.78|5|km',
    ]) {
      const res = await b.get(path);
      expect([path, res.status]).toEqual([path, 200]);
    }
    const found = json<Bundle>((await b.get('/PractitionerRole?accepting-new-patients=true')).body);
    expect(found.entry?.map((e) => e.resource?.id)).toEqual([roleId]);
  });

  test('a Practitioner is answered with its listing elements only', async () => {
    const b = client();
    const read = json<Practitioner>((await b.get(`/Practitioner/${practitionerId}?_elements=birthDate,address`)).body);
    expect(Object.keys(read).sort()).toEqual(['id', 'meta', 'name', 'qualification', 'resourceType']);
    const found = json<Bundle<Practitioner>>((await b.get('/Practitioner?family=ngata&_summary=false')).body);
    expect(
      found.entry?.map((e) => [e.resource?.birthDate, e.resource?.telecom, e.resource?.name?.[0]?.family])
    ).toEqual([[undefined, undefined, 'Ngata']]);
  });

  test.each([
    ['a search on a Practitioner field outside the listing', '/Practitioner?birthdate=1979-04-02'],
    ['a sort on one', '/Practitioner?_sort=birthdate'],
    ['a chain into Practitioner', '/PractitionerRole?practitioner.birthdate=1979-04-02'],
    ['an include of Practitioner', '/PractitionerRole?_include=PractitionerRole:practitioner'],
    ['a reverse include', '/PractitionerRole?_revinclude=Appointment:actor'],
    ['a _has', `/PractitionerRole?_has:Appointment:actor:patient=Patient/x`],
  ])('%s answers 403', async (_what, path) => {
    const res = await client().get(path);
    expect([res.status, json<OperationOutcome>(res.body).resourceType]).toEqual([403, 'OperationOutcome']);
  });

  test.each([
    ['another type', () => `/Patient/${patientId}`],
    ['a search of another type', () => '/Appointment'],
    ['history', () => `/PractitionerRole/${roleId}/_history`],
    ['an operation', () => '/PractitionerRole/$validate'],
    ['the whole system', () => '/'],
  ])('%s still needs a token (401)', async (_what, path) => {
    const res = await client().get(path());
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain('Bearer');
  });

  test('writes need a token', async () => {
    const res = await s.post('Location', locationAt('Nowhere', 0, 0), anonymous);
    expect(res.status).toBe(401);
    const put = await s.put(`PractitionerRole/${roleId}`, { resourceType: 'PractitionerRole', id: roleId }, anonymous);
    expect(put.status).toBe(401);
  });

  test('past the per-address limit an anonymous caller gets 429 with Retry-After; a token is not limited', async () => {
    const b = client();
    const statuses: number[] = [];
    let retryAfter = '';
    for (let i = 0; i < 10; i++) {
      const res = await b.get('/Location');
      statuses.push(res.status);
      retryAfter = res.headers.get('retry-after') ?? retryAfter;
    }
    expect(statuses).toEqual([...Array(8).fill(200), 429, 429]);
    expect(Number(retryAfter)).toBeGreaterThan(0);
    expect((await client().get('/Location')).status).toBe(200); // another address
    expect((await s.get('Location')).status).toBe(200); // with a token
  });
});
