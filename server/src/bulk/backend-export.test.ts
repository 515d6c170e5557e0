import { randomUUID } from 'node:crypto';
import type { CryptoKey } from 'jose';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { createClient, tokenRequest } from '../auth/oauth/test-support';
import { observation } from '../test/consent-fixtures';
import type { TestServer } from '../test/test-server';
import { call, exportAll, idsOf, startBulkServer } from './test-support';

/**
 * SMART Backend Services end to end, as a bulk client runs it: a client_credentials token obtained
 * with a private_key_jwt assertion, then Patient- and Group-level exports with it.
 */
let s: TestServer;
let privateKey: CryptoKey;
let clientId: string;
const ids: Record<string, string> = {};
const KID = randomUUID();

beforeAll(async () => {
  s = await startBulkServer({ AUTH_RATE_LIMIT_PER_MINUTE: '100000' });
  const pair = await generateKeyPair('RS384', { extractable: true });
  privateKey = pair.privateKey;
  const { client } = await createClient(s, {
    type: 'confidential-asymmetric',
    redirect_uris: [],
    scope: 'system/*.rs system/*.read system/Observation.rs',
    jwks: { keys: [{ ...(await exportJWK(pair.publicKey)), kid: KID, alg: 'RS384' }] },
  });
  clientId = client.client_id;
  ids.alice = (await s.create({ resourceType: 'Patient', name: [{ family: 'Avery' }] })).id;
  ids.bob = (await s.create({ resourceType: 'Patient', name: [{ family: 'Bishop' }] })).id;
  ids.aliceObs = (await s.create(observation(ids.alice, 'laboratory', '2026-01-01'))).id;
  ids.bobObs = (await s.create(observation(ids.bob, 'laboratory', '2026-01-02'))).id;
  ids.group = (
    await s.create({
      resourceType: 'Group',
      type: 'person',
      actual: true,
      member: [{ entity: { reference: `Patient/${ids.bob}` } }],
    })
  ).id;
});
afterAll(async () => {
  await s.stop();
});

async function backendToken(scope: string): Promise<string> {
  const assertion = await new SignJWT({ jti: randomUUID() })
    .setProtectedHeader({ alg: 'RS384', kid: KID, typ: 'JWT' })
    .setIssuer(clientId)
    .setSubject(clientId)
    .setAudience(`${s.hale.url}/oauth2/token`)
    .setExpirationTime(Math.floor(Date.now() / 1000) + 240)
    .sign(privateKey);
  const res = await tokenRequest(s, {
    grant_type: 'client_credentials',
    scope,
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    client_assertion: assertion,
  });
  expect(res.status).toBe(200);
  return res.body.access_token as string;
}

test.each(['system/*.rs', 'system/*.read'])('%s: a Patient-level and a Group-level export', async (scope) => {
  const token = await backendToken(scope);
  const patients = await exportAll(s, 'Patient/$export', { token });
  expect(idsOf(patients, 'Patient')).toEqual([ids.alice, ids.bob].sort());
  expect(idsOf(patients, 'Observation')).toEqual([ids.aliceObs, ids.bobObs].sort());
  const group = await exportAll(s, `Group/${ids.group}/$export`, { token });
  expect(idsOf(group, 'Patient')).toEqual([ids.bob]);
  expect(idsOf(group, 'Observation')).toEqual([ids.bobObs]);
});

test('a per-type system scope exports that type only; a file needs a token that covers it', async () => {
  const narrow = await backendToken('system/Observation.rs');
  const e = await exportAll(s, '$export', { token: narrow });
  expect(Object.keys(e.byType)).toEqual(['Observation']);
  const wide = await backendToken('system/*.rs');
  const all = await exportAll(s, '$export?_type=Patient', { token: wide });
  const file = all.manifest.output[0]?.url as string;
  expect((await call(s, 'GET', file, { token: narrow })).status).toBe(403); // same client, narrower token
  expect((await call(s, 'GET', file, { token: await backendToken('system/*.rs') })).status).toBe(200);
});
