import type { OperationOutcome, PractitionerRole, Resource } from '@medplum/fhirtypes';
import type { TestServer } from '../test/test-server';
import { startTestServer } from '../test/test-server';
import type { ListingRefs } from './listing-examples';
import { LISTING_BREAKS, fee, locationAt, providerListing, serviceListing } from './listing-examples';
import { LISTING_EXTENSIONS, LISTING_PROFILES } from './vocabulary';

describe('marketplace listing profiles at write', () => {
  let s: TestServer;
  let refs: ListingRefs;

  beforeAll(async () => {
    s = await startTestServer();
    const practitionerId = (await s.create({ resourceType: 'Practitioner', name: [{ family: 'Ngata' }] })).id;
    const organizationId = (await s.create({ resourceType: 'Organization', name: 'Harbour Health' })).id;
    const locationId = (await s.create(locationAt('Wellington', -41.2865, 174.7762))).id;
    refs = { practitionerId, organizationId, locationId };
  });

  afterAll(async () => {
    await s?.stop();
  });

  const claiming = (r: Resource, url: string): Resource => ({ ...r, meta: { profile: [url] } });
  const examples = {
    provider: (): Resource => claiming(providerListing(refs), LISTING_PROFILES.provider),
    service: (): Resource => claiming(serviceListing(refs), LISTING_PROFILES.service),
    location: (): Resource => claiming(locationAt('Porirua', -41.1339, 174.8406), LISTING_PROFILES.location),
  };
  const kinds = Object.keys(examples) as (keyof typeof examples)[];
  const breaks = kinds.flatMap((kind) => LISTING_BREAKS[kind].map((b) => [kind, b.what, b] as const));

  test.each(kinds)('%s: a conformant listing claiming the profile is stored (201)', async (kind) => {
    const r = examples[kind]();
    const res = await s.post(r.resourceType, r);
    expect([res.status, res.body.issue]).toEqual([201, undefined]);
  });

  test.each(breaks)('%s with %s answers 400 naming the element, and nothing is stored', async (kind, _what, b) => {
    const r = b.change(examples[kind]());
    const before = (await s.search(`${r.resourceType}?_summary=count`)).total;
    const res = await s.post<OperationOutcome>(r.resourceType, r);
    expect([res.status, res.body.resourceType]).toEqual([400, 'OperationOutcome']);
    expect([...new Set((res.body.issue ?? []).flatMap((i) => i.expression ?? []))].sort()).toEqual(b.elements);
    expect((await s.search(`${r.resourceType}?_summary=count`)).total).toBe(before);
  });

  test('a client cannot set the rating: a create drops it and an update keeps the stored one', async () => {
    const rating = {
      url: LISTING_EXTENSIONS.rating,
      extension: [
        { url: 'mean', valueDecimal: 10 },
        { url: 'count', valueUnsignedInt: 500 },
        { url: 'total', valueUnsignedInt: 5000 },
      ],
    };
    const created = await s.post<PractitionerRole>('PractitionerRole', {
      ...providerListing(refs),
      extension: [fee(50), rating],
    });
    expect([created.status, created.body.extension]).toEqual([201, [fee(50)]]);
    const updated = await s.put<PractitionerRole>(`PractitionerRole/${created.body.id}`, {
      ...created.body,
      extension: [rating, fee(60)],
    });
    expect([updated.status, updated.body.extension]).toEqual([200, [fee(60)]]);
    const read = await s.get<PractitionerRole>(`PractitionerRole/${created.body.id}`);
    expect(read.body.extension).toEqual([fee(60)]);
  });
});
