import type { Bundle, Observation, OperationOutcome, Patient } from '@medplum/fhirtypes';
import { randomUUID } from 'node:crypto';
import { newUrn, transaction, useTestServer } from '../../test/bundles';
import { matchIds } from '../../test/test-server';

/*
 * References between the entries of a transaction resolve whatever order the entries are written
 * in: they are checked once, when every entry is written (WriteBuffer.finish), not when a read,
 * search or update in the middle of the transaction writes what is buffered.
 */
const server = useTestServer();

const observation = (subject: string): Observation => ({
  resourceType: 'Observation',
  status: 'final',
  code: { text: 'entry references' },
  subject: { reference: subject },
});
const patientWith = (system: string, value: string, other?: string): Patient => ({
  resourceType: 'Patient',
  identifier: [{ system, value }],
  ...(other ? { link: [{ other: { reference: other }, type: 'seealso' as const }] } : {}),
});

describe('references between the entries of a transaction', () => {
  test('a POST may name the patient a conditional PUT of the same bundle creates (PUTs run after POSTs)', async () => {
    const system = `urn:refs:${randomUUID()}`;
    const patient = newUrn();
    const res = await server().post<Bundle>(
      '',
      transaction([
        { fullUrl: newUrn(), resource: observation(patient), request: { method: 'POST', url: 'Observation' } },
        {
          fullUrl: patient,
          resource: patientWith(system, 'p'),
          request: { method: 'PUT', url: `Patient?identifier=${system}|p` },
        },
      ])
    );
    expect(res.status).toBe(200);
    const patientId = (res.body.entry?.[1]?.response?.location as string).split('/')[1];
    expect((res.body.entry?.[0]?.resource as Observation).subject?.reference).toBe(`Patient/${patientId}`);
  });

  test('two conditional PUTs may name each other', async () => {
    const system = `urn:refs:${randomUUID()}`;
    const [a, b] = [newUrn(), newUrn()];
    const res = await server().post<Bundle>(
      '',
      transaction([
        {
          fullUrl: a,
          resource: patientWith(system, 'a', b),
          request: { method: 'PUT', url: `Patient?identifier=${system}|a` },
        },
        {
          fullUrl: b,
          resource: patientWith(system, 'b', a),
          request: { method: 'PUT', url: `Patient?identifier=${system}|b` },
        },
      ])
    );
    expect(res.status).toBe(200);
    const [pa, pb] = (res.body.entry ?? []).map((e) => e.resource as Patient);
    expect(pa?.link?.[0]?.other.reference).toBe(`Patient/${pb?.id}`);
    expect(pb?.link?.[0]?.other.reference).toBe(`Patient/${pa?.id}`);
  });

  test('an entry written before a conditional create is resolved may name an entry written after it', async () => {
    // The ifNoneExist matches nothing, so it is searched again under its lock, which writes what
    // is buffered: the observation, whose patient (it names the organization) comes later.
    const system = `urn:refs:${randomUUID()}`;
    const [org, patient] = [newUrn(), newUrn()];
    const res = await server().post<Bundle>(
      '',
      transaction([
        { fullUrl: newUrn(), resource: observation(patient), request: { method: 'POST', url: 'Observation' } },
        {
          fullUrl: patient,
          resource: { resourceType: 'Patient', managingOrganization: { reference: org } },
          request: { method: 'POST', url: 'Patient' },
        },
        {
          fullUrl: org,
          resource: { resourceType: 'Organization', identifier: [{ system, value: 'o' }] },
          request: { method: 'POST', url: 'Organization', ifNoneExist: `identifier=${system}|o` },
        },
      ])
    );
    expect(res.status).toBe(200);
    expect(res.body.entry?.map((e) => e.response?.status)).toEqual(['201', '201', '201']);
  });

  test('a reference that resolves nowhere still fails the transaction, naming its entry', async () => {
    const system = `urn:refs:${randomUUID()}`;
    const res = await server().post<OperationOutcome>(
      '',
      transaction([
        {
          fullUrl: newUrn(),
          resource: observation(`Patient/${randomUUID()}`),
          request: { method: 'POST', url: 'Observation' },
        },
        {
          fullUrl: newUrn(),
          resource: patientWith(system, 'p'),
          request: { method: 'PUT', url: `Patient?identifier=${system}|p` },
        },
      ])
    );
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body)).toContain('Bundle.entry[0]');
    expect(matchIds(await server().search(`Patient?identifier=${system}|p`))).toEqual([]);
  });

  test('a reference to a resource the same transaction deletes fails it', async () => {
    const stored = await server().create<Patient>({ resourceType: 'Patient', name: [{ family: 'RefsDeleted' }] });
    const res = await server().post<OperationOutcome>(
      '',
      transaction([
        { request: { method: 'DELETE', url: `Patient/${stored.id}` } },
        {
          fullUrl: newUrn(),
          resource: observation(`Patient/${stored.id}`),
          request: { method: 'POST', url: 'Observation' },
        },
      ])
    );
    expect(res.status).toBe(400);
    expect((await server().get(`Patient/${stored.id}`)).status).toBe(200);
  });
});
