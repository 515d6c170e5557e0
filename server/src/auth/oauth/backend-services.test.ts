import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import type { CryptoKey, JWK } from 'jose';
import { SignJWT, decodeJwt, exportJWK, generateKeyPair } from 'jose';
import { sql } from '../../db/sql';
import type { TestServer } from '../../test/test-server';
import { createClient, createResource, startOAuthServer, testDeps, tokenRequest } from './test-support';
import { pruneExpired } from './grants';
import { verifyAccessToken } from './verify';

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

let s: TestServer;
let jwksServer: Server;
let jwksUrl: string;
let servedKeys: JWK[] = [];

interface KeyPair {
  kid: string;
  alg: 'RS384' | 'ES384';
  privateKey: CryptoKey;
  publicJwk: JWK;
}

async function keyPair(alg: 'RS384' | 'ES384'): Promise<KeyPair> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const kid = randomUUID();
  return { kid, alg, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg } };
}

beforeAll(async () => {
  s = await startOAuthServer();
  jwksServer = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=60' });
    res.end(JSON.stringify({ keys: servedKeys }));
  });
  await new Promise<void>((r) => jwksServer.listen(0, '127.0.0.1', r));
  jwksUrl = `http://localhost:${(jwksServer.address() as AddressInfo).port}/jwks.json`;
});
afterAll(async () => {
  await new Promise((r) => jwksServer.close(r));
  await s.stop();
});

async function assertion(
  clientId: string,
  key: KeyPair,
  o: { aud?: string; jti?: string; expIn?: number; sub?: string; jku?: string } = {}
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ jti: o.jti ?? randomUUID() })
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT', ...(o.jku ? { jku: o.jku } : {}) })
    .setIssuer(clientId)
    .setSubject(o.sub ?? clientId)
    .setAudience(o.aud ?? `${s.hale.url}/oauth2/token`)
    .setExpirationTime(now + (o.expIn ?? 240))
    .sign(key.privateKey);
}

const request = (jwt: string, scope = 'system/*.read') =>
  tokenRequest(s, {
    grant_type: 'client_credentials',
    scope,
    client_assertion_type: ASSERTION_TYPE,
    client_assertion: jwt,
  });

async function backendClient(keys: KeyPair[], scope = 'system/*.read system/Observation.rs'): Promise<string> {
  const { client } = await createClient(s, {
    type: 'confidential-asymmetric',
    redirect_uris: [],
    scope,
    jwks: { keys: keys.map((k) => k.publicJwk) },
  });
  return client.client_id;
}

describe('backend services (client_credentials with private_key_jwt)', () => {
  test('an RS384 assertion gets a short-lived system token, then a system search', async () => {
    const key = await keyPair('RS384');
    const clientId = await backendClient([key]);
    const res = await request(await assertion(clientId, key));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ token_type: 'Bearer', expires_in: 300, scope: 'system/*.read' });
    expect(res.body.refresh_token).toBeUndefined();
    expect(res.body.patient).toBeUndefined();
    const claims = await verifyAccessToken(testDeps(s), res.body.access_token);
    expect(claims).toMatchObject({ sub: clientId, client_id: clientId, scope: 'system/*.read' });

    await createResource(s, { resourceType: 'Patient', name: [{ family: 'Backend' }] });
    const search = await s.get('Patient?name=Backend', { authorization: `Bearer ${res.body.access_token}` });
    expect(search.status).toBe(200);
    expect(search.body.entry).toHaveLength(1);
  });

  test('an ES384 assertion works too', async () => {
    const key = await keyPair('ES384');
    const clientId = await backendClient([key]);
    expect((await request(await assertion(clientId, key))).status).toBe(200);
  });

  test('scopes beyond the registration are dropped; none left is invalid_scope', async () => {
    const key = await keyPair('RS384');
    const clientId = await backendClient([key], 'system/Observation.rs');
    const some = await request(await assertion(clientId, key), 'system/Observation.rs system/Patient.rs patient/*.rs');
    expect(some.body.scope).toBe('system/Observation.rs');
    const none = await request(await assertion(clientId, key), 'system/Patient.cruds');
    expect(none.status).toBe(400);
    expect(none.body.error).toBe('invalid_scope');
  });

  test('a replayed jti is refused', async () => {
    const key = await keyPair('RS384');
    const clientId = await backendClient([key]);
    const jti = randomUUID();
    expect((await request(await assertion(clientId, key, { jti }))).status).toBe(200);
    const replay = await request(await assertion(clientId, key, { jti }));
    expect(replay.status).toBe(401);
    expect(replay.body.error).toBe('invalid_client');
    expect(replay.body.error_description).toContain('jti');
  });

  test('alg none, HS256 and RS256 assertions are refused', async () => {
    const key = await keyPair('RS384');
    const clientId = await backendClient([key]);
    const b64 = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
    const claims = {
      iss: clientId,
      sub: clientId,
      aud: `${s.hale.url}/oauth2/token`,
      jti: randomUUID(),
      exp: Math.floor(Date.now() / 1000) + 60,
    };
    const none = `${b64({ alg: 'none', kid: key.kid })}.${b64(claims)}.`;
    const hs = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', kid: key.kid })
      .sign(new TextEncoder().encode(JSON.stringify(key.publicJwk)));
    const rsa = await generateKeyPair('RS256');
    const rs256 = await new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: key.kid }).sign(rsa.privateKey);
    for (const jwt of [none, hs, rs256]) {
      const res = await request(jwt);
      expect(res.status).toBe(401);
      expect(res.body.error).toBe('invalid_client');
    }
  });

  test('a wrong audience, iss ≠ sub, an unknown kid or an exp over 5 minutes ahead is refused', async () => {
    const key = await keyPair('RS384');
    const clientId = await backendClient([key]);
    const stranger = await keyPair('RS384');
    const bad = [
      await assertion(clientId, key, { aud: s.base }),
      await assertion(clientId, key, { sub: 'someone-else' }),
      await assertion(clientId, stranger),
      await assertion(clientId, key, { expIn: 600 }),
      await assertion(clientId, key, { expIn: -60 }),
    ];
    for (const jwt of bad) {
      const res = await request(jwt);
      expect(res.status).toBe(401);
      expect(res.body.error).toBe('invalid_client');
    }
  });

  test('keys come from the registered JWKS URL; a jku elsewhere is refused', async () => {
    const key = await keyPair('RS384');
    servedKeys = [key.publicJwk];
    const { client } = await createClient(s, {
      type: 'confidential-asymmetric',
      redirect_uris: [],
      scope: 'system/*.read',
      jwks_uri: jwksUrl,
    });
    expect((await request(await assertion(client.client_id, key))).status).toBe(200);
    expect((await request(await assertion(client.client_id, key, { jku: jwksUrl }))).status).toBe(200);
    const elsewhere = await request(await assertion(client.client_id, key, { jku: 'https://evil.example.org/jwks' }));
    expect(elsewhere.status).toBe(401);
    // The client rotates its key: an unknown kid makes Hale fetch the set again.
    const next = await keyPair('RS384');
    servedKeys = [next.publicJwk];
    expect((await request(await assertion(client.client_id, next))).status).toBe(200);
  });

  test('their grants are pruned once the token has expired', async () => {
    const key = await keyPair('RS384');
    const clientId = await backendClient([key]);
    const { access_token } = (await request(await assertion(clientId, key))).body as { access_token: string };
    const { grant_id } = decodeJwt(access_token) as { grant_id: string };
    await pruneExpired(s.hale.db);
    expect(await s.hale.db.query(sql`SELECT id FROM oauth_grant WHERE id = ${grant_id}`)).toHaveLength(1);
    await s.hale.db.query(sql`UPDATE oauth_grant SET created_at = now() - interval '2 days' WHERE id = ${grant_id}`);
    await s.hale.db.query(
      sql`UPDATE oauth_access_token SET expires_at = now() - interval '2 days' WHERE grant_id = ${grant_id}`
    );
    await pruneExpired(s.hale.db);
    expect(await s.hale.db.query(sql`SELECT id FROM oauth_grant WHERE id = ${grant_id}`)).toHaveLength(0);
  });

  test('clients with a secret or no keys cannot use client_credentials', async () => {
    const { client, clientSecret } = await createClient(s, { type: 'confidential-symmetric', scope: 'system/*.read' });
    const res = await tokenRequest(s, {
      grant_type: 'client_credentials',
      scope: 'system/*.read',
      client_id: client.client_id,
      client_secret: clientSecret as string,
    });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('unauthorized_client');
  });
});
