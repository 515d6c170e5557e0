import type { Bundle, BundleEntry, Patient } from '@medplum/fhirtypes';
import { randomUUID } from 'node:crypto';
import { newUrn, useTestServer } from '../../test/bundles';

const server = useTestServer();

const patient = (family: string): Patient => ({ resourceType: 'Patient', name: [{ family }] });

/** A Patient and an Observation about it, plus a conditional create of an Organization that exists already. */
async function writes(type: 'transaction' | 'batch', org: string): Promise<Bundle> {
  const p = newUrn();
  const entry: BundleEntry[] = [
    { fullUrl: p, resource: patient('PreferEntries'), request: { method: 'POST', url: 'Patient' } },
    {
      resource: { resourceType: 'Organization', identifier: [{ system: 'urn:prefer', value: org }], name: org },
      request: { method: 'POST', url: 'Organization', ifNoneExist: `identifier=urn:prefer|${org}` },
    },
  ];
  if (type === 'transaction') {
    entry.push({
      resource: {
        resourceType: 'Observation',
        status: 'final',
        code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] },
        subject: { reference: p },
      },
      request: { method: 'POST', url: 'Observation' },
    });
  }
  return { resourceType: 'Bundle', type, entry };
}

async function storedOrganization(org: string): Promise<void> {
  const res = await server().post('Organization', {
    resourceType: 'Organization',
    identifier: [{ system: 'urn:prefer', value: org }],
    name: org,
  });
  expect(res.status).toBe(201);
}

describe('Prefer: return=… on the entries of a transaction or batch', () => {
  test('return=minimal answers each write with its response alone, and the writes are stored', async () => {
    const org = randomUUID();
    await storedOrganization(org);
    const res = await server().post<Bundle>('', await writes('transaction', org), { prefer: 'return=minimal' });
    expect(res.status).toBe(200);
    const entries = res.body.entry ?? [];
    expect(entries.map((e) => e.response?.status)).toEqual(['201', '200', '201']);
    for (const e of entries) {
      expect(e.resource).toBeUndefined();
      expect(e.response?.location).toMatch(/^(Patient|Organization|Observation)\/[^/]+\/_history\/\d+$/);
      expect(e.response?.etag).toMatch(/^W\/"\d+"$/);
      expect(e.response?.lastModified).toBeDefined();
    }
    // The locations are the versions written: each can be read back.
    const observation = await server().get(entries[2]?.response?.location as string);
    expect(observation.status).toBe(200);
    const patientId = (entries[0]?.response?.location as string).split('/')[1];
    expect(observation.body.subject.reference).toBe(`Patient/${patientId}`);
  });

  test('return=OperationOutcome puts an outcome in each write response instead of the resource', async () => {
    const org = randomUUID();
    await storedOrganization(org);
    const res = await server().post<Bundle>('', await writes('transaction', org), {
      prefer: 'return=OperationOutcome',
    });
    expect(res.status).toBe(200);
    const entries = res.body.entry ?? [];
    expect(entries.map((e) => e.response?.status)).toEqual(['201', '200', '201']);
    for (const e of entries) {
      expect(e.resource).toBeUndefined();
      expect(e.response?.outcome?.resourceType).toBe('OperationOutcome');
      expect(e.response?.outcome?.issue?.[0]?.severity).toBe('information');
    }
  });

  test('return=representation, like no Prefer at all, returns each resource written or matched', async () => {
    const preferences: Record<string, string>[] = [{ prefer: 'return=representation' }, {}];
    for (const prefer of preferences) {
      const org = randomUUID();
      await storedOrganization(org);
      const res = await server().post<Bundle>('', await writes('transaction', org), prefer);
      expect(res.status).toBe(200);
      const entries = res.body.entry ?? [];
      expect(entries.map((e) => e.resource?.resourceType)).toEqual(['Patient', 'Organization', 'Observation']);
      expect(entries[1]?.resource?.id).toBe((entries[1]?.response?.location as string).split('/')[1]);
    }
  });

  test('in a batch it shapes the writes but not the reads, and failures keep their OperationOutcome', async () => {
    const org = randomUUID();
    await storedOrganization(org);
    const bundle = await writes('batch', org);
    bundle.entry?.push(
      { request: { method: 'GET', url: `Organization?identifier=urn:prefer|${org}` } },
      {
        resource: { resourceType: 'Patient', gender: 'robot' } as unknown as Patient,
        request: { method: 'POST', url: 'Patient' },
      }
    );
    const res = await server().post<Bundle>('', bundle, { prefer: 'return=minimal' });
    expect(res.status).toBe(200);
    const entries = res.body.entry ?? [];
    expect(entries.map((e) => e.response?.status)).toEqual(['201', '200', '200', '400']);
    expect(entries[0]?.resource).toBeUndefined();
    expect(entries[1]?.resource).toBeUndefined();
    const found = entries[2]?.resource as Bundle;
    expect(found.resourceType).toBe('Bundle');
    expect(found.entry?.map((e) => e.resource?.resourceType)).toEqual(['Organization']);
    expect(entries[3]?.response?.outcome?.issue?.[0]?.severity).toBe('error');
  });
});
