import type { Bundle, BundleEntry, OperationOutcome, Organization, Patient } from '@medplum/fhirtypes';
import { randomUUID } from 'node:crypto';
import { newUrn, transaction, useTestServer } from '../../test/bundles';
import { matchIds } from '../../test/test-server';

/*
 * A transaction of creates starts writing before its conditional creates are resolved
 * (early-writes.ts). These pin down that the outcome is still the one of resolving identities
 * first: conditional creates and conditional references see the database as it was before the
 * transaction, never the bundle's own new resources.
 */
const server = useTestServer();

const org = (system: string, value: string): Organization => ({
  resourceType: 'Organization',
  name: value,
  identifier: [{ system, value }],
});
const create = (fullUrl: string, resource: Organization | Patient, ifNoneExist?: string): BundleEntry => ({
  fullUrl,
  resource,
  request: { method: 'POST', url: resource.resourceType, ...(ifNoneExist ? { ifNoneExist } : {}) },
});

describe('a transaction of creates that writes before resolving its conditional creates', () => {
  test('an ifNoneExist does not match a resource created by the same bundle (one lookup, a search)', async () => {
    const system = `urn:early:${randomUUID()}`;
    const res = await server().post<Bundle>(
      '',
      transaction([create(newUrn(), org(system, 'a')), create(newUrn(), org(system, 'a'), `identifier=${system}|a`)])
    );
    expect(res.status).toBe(200);
    expect(res.body.entry?.map((e) => e.response?.status)).toEqual(['201', '201']);
    expect(matchIds(await server().search(`Organization?identifier=${system}|a`))).toHaveLength(2);
  });

  test('nor with several lookups answered by one prefetch query', async () => {
    const system = `urn:early:${randomUUID()}`;
    const res = await server().post<Bundle>(
      '',
      transaction([
        create(newUrn(), org(system, 'a')),
        create(newUrn(), org(system, 'a'), `identifier=${system}|a`),
        create(newUrn(), org(system, 'b'), `identifier=${system}|b`),
      ])
    );
    expect(res.status).toBe(200);
    expect(res.body.entry?.map((e) => e.response?.status)).toEqual(['201', '201', '201']);
  });

  test('an ifNoneExist with one match before the bundle reuses it, however many the bundle adds', async () => {
    const system = `urn:early:${randomUUID()}`;
    const before = await server().create<Organization>(org(system, 'a'));
    const entries = [0, 1, 2].map(() => create(newUrn(), org(system, 'a')));
    const conditional = newUrn();
    entries.push(create(conditional, org(system, 'a'), `identifier=${system}|a`));
    entries.push(create(newUrn(), { resourceType: 'Patient', managingOrganization: { reference: conditional } }));
    const res = await server().post<Bundle>('', transaction(entries));
    expect(res.status).toBe(200);
    expect(res.body.entry?.map((e) => e.response?.status)).toEqual(['201', '201', '201', '200', '201']);
    expect(res.body.entry?.[3]?.resource?.id).toBe(before.id);
    expect((res.body.entry?.[4]?.resource as Patient).managingOrganization?.reference).toBe(
      `Organization/${before.id}`
    );
  });

  test('an ifNoneExist with two matches before the bundle still fails with 412, and nothing is kept', async () => {
    const system = `urn:early:${randomUUID()}`;
    await server().create<Organization>(org(system, 'a'));
    await server().create<Organization>(org(system, 'a'));
    const res = await server().post<OperationOutcome>(
      '',
      transaction([
        create(newUrn(), { resourceType: 'Patient', name: [{ family: system }] }),
        create(newUrn(), org(system, 'a'), `identifier=${system}|a`),
      ])
    );
    expect(res.status).toBe(412);
    expect(JSON.stringify(res.body)).toContain('Bundle.entry[1]');
    expect(matchIds(await server().search(`Organization?identifier=${system}|a`))).toHaveLength(2);
    expect(matchIds(await server().search(`Patient?family:exact=${encodeURIComponent(system)}`))).toEqual([]);
  });

  test('a conditional reference does not resolve to a resource created by the same bundle', async () => {
    const system = `urn:early:${randomUUID()}`;
    const entries = [
      create(newUrn(), { resourceType: 'Patient', identifier: [{ system, value: 'p' }] }),
      create(newUrn(), {
        resourceType: 'Patient',
        link: [{ other: { reference: `Patient?identifier=${system}|p` }, type: 'seealso' }],
      }),
    ];
    const none = await server().post<OperationOutcome>('', transaction(entries));
    expect(none.status).toBe(400);
    expect(JSON.stringify(none.body)).toContain('matched no resource');
    expect(matchIds(await server().search(`Patient?identifier=${system}|p`))).toEqual([]);
    // With one such patient stored before, the same bundle resolves the reference to that one.
    const before = await server().create<Patient>({ resourceType: 'Patient', identifier: [{ system, value: 'p' }] });
    const ok = await server().post<Bundle>('', transaction(entries));
    expect(ok.status).toBe(200);
    expect((ok.body.entry?.[1]?.resource as Patient).link?.[0]?.other.reference).toBe(`Patient/${before.id}`);
  });

  test('answers keep the order of the entries, whichever were written first', async () => {
    const system = `urn:early:${randomUUID()}`;
    const orgUrl = newUrn();
    const entries = [
      create(newUrn(), {
        resourceType: 'Patient',
        name: [{ family: 'EarlyA' }],
        managingOrganization: { reference: orgUrl },
      }),
      create(newUrn(), { resourceType: 'Patient', name: [{ family: 'EarlyB' }] }),
      create(orgUrl, org(system, 'a'), `identifier=${system}|a`),
      create(newUrn(), { resourceType: 'Patient', name: [{ family: 'EarlyC' }] }),
    ];
    const res = await server().post<Bundle>('', transaction(entries));
    expect(res.status).toBe(200);
    const answers = res.body.entry ?? [];
    expect(answers.map((e) => e.response?.status)).toEqual(['201', '201', '201', '201']);
    expect(answers.map((e) => e.resource?.resourceType)).toEqual(['Patient', 'Patient', 'Organization', 'Patient']);
    expect((answers[0]?.resource as Patient).name?.[0]?.family).toBe('EarlyA');
    expect((answers[0]?.resource as Patient).managingOrganization?.reference).toBe(
      `Organization/${answers[2]?.resource?.id}`
    );
    expect((answers[3]?.resource as Patient).name?.[0]?.family).toBe('EarlyC');
  });
});
