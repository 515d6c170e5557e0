import type { Bundle, CapabilityStatement, Resource } from '@medplum/fhirtypes';
import { randomUUID } from 'node:crypto';
import type { CryptoKey } from 'jose';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { createClient } from '../auth/oauth/test-support';
import { observation } from '../test/consent-fixtures';
import type { TestServer } from '../test/test-server';
import { startBulkServer } from './test-support';

/**
 * A Bulk Data client written from the IG's client flow and nothing of Hale's test helpers: it knows
 * only the FHIR base URL, its client id and its private key. It reads the CapabilityStatement and
 * the SMART configuration, gets a Backend Services token by private_key_jwt at the advertised
 * token endpoint, kicks off, polls honouring Retry-After, downloads each file with the token, and
 * DELETEs the status URL when done (the IG's "client has finished" signal). No bulk client that
 * someone else wrote is published on the npm registry this machine reaches, so this test stands in.
 */
let s: TestServer;
let privateKey: CryptoKey;
let clientId: string;
const KID = randomUUID();
const ids: Record<string, string> = {};

beforeAll(async () => {
  s = await startBulkServer({ AUTH_RATE_LIMIT_PER_MINUTE: '100000', BULK_MIN_POLL_MS: '1000' });
  const pair = await generateKeyPair('ES384', { extractable: true });
  privateKey = pair.privateKey;
  // Registration is out of band in the IG; here the operator registers the client's public key.
  const { client } = await createClient(s, {
    type: 'confidential-asymmetric',
    redirect_uris: [],
    scope: 'system/*.rs',
    jwks: { keys: [{ ...(await exportJWK(pair.publicKey)), kid: KID, alg: 'ES384' }] },
  });
  clientId = client.client_id;
  ids.ann = (await s.create({ resourceType: 'Patient', name: [{ family: 'Ng' }] })).id;
  ids.ben = (await s.create({ resourceType: 'Patient', name: [{ family: 'Oduya' }] })).id;
  ids.annObs = (await s.create(observation(ids.ann, 'laboratory', '2026-02-01'))).id;
  ids.benObs = (await s.create(observation(ids.ben, 'vital-signs', '2026-02-02'))).id;
  ids.group = (
    await s.create({
      resourceType: 'Group',
      type: 'person',
      actual: true,
      member: [{ entity: { reference: `Patient/${ids.ann}` } }],
    })
  ).id;
});
afterAll(async () => {
  await s.stop();
});

const sleep = (seconds: number) => new Promise((r) => setTimeout(r, seconds * 1000));

/** Backend Services: discovery, then a client_credentials grant with a signed assertion. */
async function authorize(fhirBase: string, scope: string): Promise<string> {
  const config = (await (await fetch(`${fhirBase}/.well-known/smart-configuration`)).json()) as {
    token_endpoint: string;
    token_endpoint_auth_methods_supported?: string[];
    token_endpoint_auth_signing_alg_values_supported?: string[];
  };
  expect(config.token_endpoint_auth_methods_supported).toContain('private_key_jwt');
  expect(config.token_endpoint_auth_signing_alg_values_supported).toContain('ES384');
  const assertion = await new SignJWT({ jti: randomUUID() })
    .setProtectedHeader({ alg: 'ES384', kid: KID, typ: 'JWT' })
    .setIssuer(clientId)
    .setSubject(clientId)
    .setAudience(config.token_endpoint)
    .setExpirationTime(Math.floor(Date.now() / 1000) + 300)
    .sign(privateKey);
  const res = await fetch(config.token_endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      scope,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: assertion,
    }),
  });
  expect(res.status).toBe(200);
  const token = (await res.json()) as { access_token: string; token_type: string; scope: string };
  expect(token.token_type.toLowerCase()).toBe('bearer');
  return token.access_token;
}

interface Manifest {
  transactionTime: string;
  request: string;
  requiresAccessToken: boolean;
  output: { type: string; url: string; count?: number }[];
  error: { type: string; url: string }[];
}

/** Kick-off, polling as the IG's client does (Retry-After; 429 means slow down), download, DELETE. */
async function bulkExport(kickoffUrl: string, token: string): Promise<Record<string, Resource[]>> {
  const auth = { authorization: `Bearer ${token}` };
  const kickoff = await fetch(kickoffUrl, {
    headers: { ...auth, accept: 'application/fhir+json', prefer: 'respond-async' },
  });
  expect(kickoff.status).toBe(202);
  const statusUrl = kickoff.headers.get('content-location') as string;
  expect(new URL(statusUrl).protocol).toMatch(/^https?:$/);
  let manifest: Manifest | undefined;
  for (let polls = 0; !manifest; polls++) {
    expect(polls).toBeLessThan(30);
    const res = await fetch(statusUrl, { headers: auth });
    if (res.status === 200) {
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      manifest = (await res.json()) as Manifest;
    } else {
      expect([202, 429]).toContain(res.status);
      await res.arrayBuffer();
      await sleep(Number(res.headers.get('retry-after') ?? 1));
    }
  }
  expect(manifest.request).toBe(kickoffUrl); // the kick-off URL as sent
  expect(manifest.requiresAccessToken).toBe(true);
  expect(manifest.error).toEqual([]);
  const byType: Record<string, Resource[]> = {};
  for (const file of manifest.output) {
    const res = await fetch(file.url, { headers: { ...auth, accept: 'application/fhir+ndjson' } });
    expect(res.status).toBe(200);
    const lines = (await res.text()).split('\n').filter(Boolean);
    expect(lines).toHaveLength(file.count ?? lines.length);
    const resources = lines.map((l) => JSON.parse(l) as Resource);
    expect(resources.every((r) => r.resourceType === file.type)).toBe(true);
    (byType[file.type] ??= []).push(...resources);
  }
  expect((await fetch(statusUrl, { method: 'DELETE', headers: auth })).status).toBe(202);
  expect((await fetch(statusUrl, { headers: auth })).status).toBe(404);
  return byType;
}

const idsOf = (rs: Resource[] | undefined) => (rs ?? []).map((r) => r.id).sort();

test('the server declares Bulk Data and the three export operations', async () => {
  const cs = (await (await fetch(`${s.base}/metadata`)).json()) as CapabilityStatement;
  expect(cs.instantiates).toContain('http://hl7.org/fhir/uv/bulkdata/CapabilityStatement/bulk-data');
  const operations = cs.rest?.[0]?.resource?.flatMap((r) => (r.operation ?? []).map((o) => `${r.type}/${o.name}`));
  expect(operations).toEqual(expect.arrayContaining(['Patient/export', 'Group/export']));
});

test('a Patient-level export, then a Group-level one, with one Backend Services token', async () => {
  const token = await authorize(s.base, 'system/*.rs');
  const patients = await bulkExport(`${s.base}/Patient/$export?_type=Patient,Observation`, token);
  expect(idsOf(patients.Patient)).toEqual([ids.ann, ids.ben].sort());
  expect(idsOf(patients.Observation)).toEqual([ids.annObs, ids.benObs].sort());
  const group = await bulkExport(`${s.base}/Group/${ids.group}/$export`, token);
  expect(idsOf(group.Patient)).toEqual([ids.ann]);
  expect(idsOf(group.Observation)).toEqual([ids.annObs]);
  // The same client reads the Group as a FHIR client would: the cohort it exported.
  const found = (await (
    await fetch(`${s.base}/Group?_id=${ids.group}`, { headers: { authorization: `Bearer ${token}` } })
  ).json()) as Bundle;
  expect(found.entry?.[0]?.resource?.id).toBe(ids.group);
});
