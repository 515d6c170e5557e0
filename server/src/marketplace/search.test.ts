import type { Bundle, CapabilityStatement, OperationOutcome } from '@medplum/fhirtypes';
import { sql } from '../db/sql';
import type { TestServer } from '../test/test-server';
import { startTestServer } from '../test/test-server';
import { DERMATOLOGY, fee, flag, language, locationAt, providerListing } from './listing-examples';
import { LISTING_EXTENSIONS } from './vocabulary';

const ids = (b: Bundle): string[] =>
  (b.entry ?? []).filter((e) => e.search?.mode === 'match').map((e) => e.resource?.id ?? '');

describe('marketplace search parameters', () => {
  let s: TestServer;
  const loc: Record<string, string> = {};
  const role: Record<string, string> = {};

  beforeAll(async () => {
    s = await startTestServer();
    const organizationId = (await s.create({ resourceType: 'Organization', name: 'Harbour Health' })).id;
    // Wellington CBD, Lower Hutt (~12 km), Porirua (~17 km), Auckland (~490 km).
    for (const [name, lat, lon] of [
      ['wellington', -41.2865, 174.7762],
      ['hutt', -41.2092, 174.908],
      ['porirua', -41.1339, 174.8406],
      ['auckland', -36.8485, 174.7633],
    ] as const) {
      loc[name] = (await s.create(locationAt(name, lat, lon))).id;
    }
    const listing = async (key: string, locationKey: string, extension: ReturnType<typeof flag>[], extra = {}) => {
      const practitionerId = (await s.create({ resourceType: 'Practitioner', name: [{ family: key }] })).id;
      const refs = { practitionerId, organizationId, locationId: loc[locationKey] as string };
      role[key] = (await s.create(providerListing(refs, { extension, ...extra }))).id;
    };
    await listing('ana', 'wellington', [
      flag(LISTING_EXTENSIONS.acceptingNewPatients, true),
      flag(LISTING_EXTENSIONS.telehealth, true),
      fee(60),
      language('es'),
    ]);
    await listing('ben', 'hutt', [flag(LISTING_EXTENSIONS.acceptingNewPatients, false), fee(90), language('en')]);
    await listing('cai', 'porirua', [flag(LISTING_EXTENSIONS.telehealth, false), fee(150, 'NZD')], {
      specialty: [{ coding: [DERMATOLOGY] }],
    });
    await listing('dee', 'auckland', [language('es'), language('en')]);
  });

  afterAll(async () => {
    await s?.stop();
  });

  test('accepting-new-patients, telehealth and language filter the listings', async () => {
    expect(ids(await s.search('PractitionerRole?accepting-new-patients=true'))).toEqual([role.ana]);
    expect(ids(await s.search('PractitionerRole?accepting-new-patients=false'))).toEqual([role.ben]);
    expect(ids(await s.search('PractitionerRole?telehealth=true'))).toEqual([role.ana]);
    expect(ids(await s.search('PractitionerRole?language=urn:ietf:bcp:47|es&_sort=_id')).sort()).toEqual(
      [role.ana, role.dee].sort()
    );
  });

  test('fee is searched as Money with a range and currency', async () => {
    const found = await s.search('PractitionerRole?fee=ge50&fee=le100&_count=10');
    expect(ids(found).sort()).toEqual([role.ana, role.ben].sort());
    expect(ids(await s.search('PractitionerRole?fee=gt100|urn:iso:std:iso:4217|NZD'))).toEqual([role.cai]);
  });

  test('specialty (core R4) combines with the Hale parameters', async () => {
    const found = await s.search(`PractitionerRole?specialty=${DERMATOLOGY.system}|${DERMATOLOGY.code}&fee=ge100`);
    expect(ids(found)).toEqual([role.cai]);
  });

  test('Location near keeps what is within the distance and _sort=near orders by distance', async () => {
    const near = await s.search('Location?near=-41.2865|174.7762|20|km&_sort=near');
    expect(ids(near)).toEqual([loc.wellington, loc.hutt, loc.porirua]);
    expect(ids(await s.search('Location?near=-41.2865|174.7762|15|km&_sort=-near'))).toEqual([
      loc.hutt,
      loc.wellington,
    ]);
    expect(ids(await s.search('Location?near=-41.2865|174.7762|5|mi'))).toEqual([loc.wellington]);
    // Without a distance: 10 km.
    expect(ids(await s.search('Location?near=-41.2865|174.7762'))).toEqual([loc.wellington]);
  });

  test('listings are near through their Locations, sorted by the nearest', async () => {
    const found = await s.search('PractitionerRole?near=-41.1339|174.8406|600|km&_sort=near');
    expect(ids(found)).toEqual([role.cai, role.ben, role.ana, role.dee]); // 0, ~10, ~18 and ~480 km
    const chained = await s.search('PractitionerRole?location.near=-36.85|174.76|5|km');
    expect(ids(chained)).toEqual([role.dee]);
  });

  test('the CapabilityStatement lists the Hale parameters and near', async () => {
    const statement = (await s.get<CapabilityStatement>('metadata')).body;
    const codes = (type: string): string[] =>
      (statement.rest?.[0]?.resource?.find((r) => r.type === type)?.searchParam ?? []).map((p) => p.name);
    expect(codes('PractitionerRole')).toEqual(
      expect.arrayContaining(['accepting-new-patients', 'telehealth', 'language', 'fee', 'rating', 'near', 'specialty'])
    );
    expect(codes('Location')).toEqual(expect.arrayContaining(['near', 'position-latitude']));
  });

  test('rating sorts listings, those without one last', async () => {
    const found = await s.search('PractitionerRole?_sort=-rating,_id&_count=10');
    expect(ids(found)).toHaveLength(4);
  });

  test('Locations stored before the position parameters existed are found once the reindex job rebuilt them', async () => {
    // What a database from before fhir-profiles/searchparameters/hale-position-*.json holds: no such rows, and a
    // Location fingerprint of the old plan (the job compares fingerprints at start and every 10 minutes).
    await s.hale.db.query(sql`DELETE FROM idx_number WHERE sp IN (SELECT sp FROM search_param
      WHERE resource_type = 'Location' AND code IN ('position-latitude', 'position-longitude'))`);
    await s.hale.db.query(sql`UPDATE index_state SET fingerprint = 'before-hale-sps' WHERE resource_type = 'Location'`);
    expect(ids(await s.search('Location?near=-41.2865|174.7762|20|km'))).toEqual([]);
    const summary = await s.hale.reindexer.run();
    expect(summary.reindexed.map((t) => [t.type, t.resources, t.complete])).toEqual([['Location', 4, true]]);
    expect(ids(await s.search('Location?near=-41.2865|174.7762|20|km&_sort=near'))).toEqual([
      loc.wellington,
      loc.hutt,
      loc.porirua,
    ]);
  });

  test.each([
    ['Location?near=91|10|5|km', 'latitude'],
    ['Location?near=-41|174|5|parsec', 'unit'],
    ['Location?near=abc|174', 'latitude'],
    ['Location?near=-41|174|-5', 'distance'],
    ['Location?_sort=near', 'near'],
  ])('%s answers 400 naming the problem', async (path, word) => {
    const res = await s.get<OperationOutcome>(path);
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body.issue)).toContain(word);
  });
});
