import { createHmac } from 'node:crypto';
import { OperationOutcomeError } from '@medplum/core';
import { SignJWT, decodeJwt, decodeProtectedHeader } from 'jose';
import { sql } from '../../db/sql';
import type { TestServer } from '../../test/test-server';
import { oauthContext } from './context';
import { issueAccessToken } from './issue';
import { TOKEN_ALG } from './keys';
import type { TestAccount } from './test-support';
import { createAccount, createClient, startOAuthServer, testDeps } from './test-support';
import { verifyAccessToken } from './verify';

let s: TestServer;
let clientId: string;
let account: TestAccount;

beforeAll(async () => {
  s = await startOAuthServer();
  clientId = (await createClient(s)).client.client_id;
  account = await createAccount(s);
});
afterAll(async () => {
  await s.stop();
});

const b64 = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');

async function rejection(token: string): Promise<string | undefined> {
  try {
    await verifyAccessToken(testDeps(s), token);
  } catch (err) {
    expect(err).toBeInstanceOf(OperationOutcomeError);
    const issues = (err as OperationOutcomeError).outcome.issue ?? [];
    return issues.map((i) => i.details?.text).join(': ');
  }
  throw new Error('the token was accepted');
}

async function validToken(): Promise<string> {
  const t = await issueAccessToken(testDeps(s), { accountId: account.id, clientId, scopes: ['patient/*.rs'] });
  return t.access_token;
}

describe('verifyAccessToken', () => {
  test('accepts a token the server issued', async () => {
    const claims = await verifyAccessToken(testDeps(s), await validToken());
    expect(claims).toMatchObject({ sub: account.id, scope: 'patient/*.rs', patient: account.patientId });
  });

  test('rejects an expired token as expired', async () => {
    const short = testDeps(s, { accessTokenTtlSeconds: 1 });
    const { access_token } = await issueAccessToken(short, {
      accountId: account.id,
      clientId,
      scopes: ['patient/*.rs'],
    });
    await verifyAccessToken(short, access_token);
    await new Promise((r) => setTimeout(r, 2100));
    expect(await rejection(access_token)).toBe('Unauthorized: Token expired');
  });

  test('rejects alg none', async () => {
    const claims = decodeJwt(await validToken());
    const none = `${b64({ alg: 'none', typ: 'at+jwt' })}.${b64(claims)}.`;
    expect(await rejection(none)).toBe('Unauthorized');
  });

  test('rejects HS256 signed with the published public key', async () => {
    const token = await validToken();
    const { kid } = decodeProtectedHeader(token);
    const jwks = (await (await fetch(`${s.hale.url}/oauth2/jwks`)).json()) as { keys: { kid: string }[] };
    const publicJwk = JSON.stringify(jwks.keys.find((k) => k.kid === kid));
    const header = b64({ alg: 'HS256', typ: 'at+jwt', kid });
    const body = b64(decodeJwt(token));
    const mac = createHmac('sha256', publicJwk).update(`${header}.${body}`).digest('base64url');
    expect(await rejection(`${header}.${body}.${mac}`)).toBe('Unauthorized');
  });

  test('rejects a token for another audience', async () => {
    const ctx = oauthContext(testDeps(s));
    const { kid, key } = await ctx.keys.signingKey(TOKEN_ALG);
    const claims = { ...decodeJwt(await validToken()), aud: 'https://other.example.org/fhir' };
    const forged = await new SignJWT(claims).setProtectedHeader({ alg: TOKEN_ALG, kid, typ: 'at+jwt' }).sign(key);
    expect(await rejection(forged)).toBe('Unauthorized: Token not issued for this audience');
  });

  test('rejects a tampered payload and an unknown kid', async () => {
    const [h, , sig] = (await validToken()).split('.');
    const tampered = `${h}.${b64({ ...decodeJwt(await validToken()), scope: 'system/*.cruds' })}.${sig}`;
    expect(await rejection(tampered)).toBe('Unauthorized');
    const ctx = oauthContext(testDeps(s));
    const { key } = await ctx.keys.signingKey(TOKEN_ALG);
    const unknownKid = await new SignJWT(decodeJwt(await validToken()))
      .setProtectedHeader({ alg: TOKEN_ALG, kid: 'not-a-key', typ: 'at+jwt' })
      .sign(key);
    expect(await rejection(unknownKid)).toBe('Unauthorized');
  });

  test('rejects an id_token or another JWT type in place of an access token', async () => {
    const ctx = oauthContext(testDeps(s));
    const { kid, key } = await ctx.keys.signingKey(TOKEN_ALG);
    const asJwt = await new SignJWT(decodeJwt(await validToken()))
      .setProtectedHeader({ alg: TOKEN_ALG, kid, typ: 'JWT' })
      .sign(key);
    expect(await rejection(asJwt)).toBe('Unauthorized');
  });

  test('rejects a token whose grant was revoked', async () => {
    const token = await validToken();
    const { grant_id } = decodeJwt(token) as { grant_id: string };
    await s.hale.db.query(sql`UPDATE oauth_grant SET revoked_at = now() WHERE id = ${grant_id}`);
    expect(await rejection(token)).toBe('Unauthorized');
  });
});

describe('signing keys', () => {
  test('rotate: the successor is published before it signs, the old key until its tokens expire', async () => {
    const ctx = oauthContext(testDeps(s));
    const before = await validToken();
    const oldKid = decodeProtectedHeader(before).kid as string;
    // The current key is due in an hour: a reload publishes its successor, which does not sign yet.
    await s.hale.db.query(sql`UPDATE signing_key SET active_until = now() + interval '1 hour' WHERE kid = ${oldKid}`);
    await ctx.keys.reload();
    const published = (await ctx.keys.publicJwks()).filter((k) => k.alg === TOKEN_ALG).map((k) => k.kid);
    expect(published).toHaveLength(2);
    expect(decodeProtectedHeader(await validToken()).kid).toBe(oldKid);
    // Its time is up: the successor signs, the old key still verifies what it signed.
    await s.hale.db.query(sql`UPDATE signing_key SET active_until = now() - interval '1 second' WHERE kid = ${oldKid}`);
    await ctx.keys.reload();
    const after = await validToken();
    expect(decodeProtectedHeader(after).kid).not.toBe(oldKid);
    await verifyAccessToken(testDeps(s), before);
    // Retired: no longer published, its tokens no longer verify.
    await s.hale.db.query(sql`UPDATE signing_key SET retire_at = now() - interval '1 second' WHERE kid = ${oldKid}`);
    await ctx.keys.reload();
    expect((await ctx.keys.publicJwks()).map((k) => k.kid)).not.toContain(oldKid);
    expect(await rejection(before)).toBe('Unauthorized');
    await verifyAccessToken(testDeps(s), after);
  });

  test('private key material is never published', async () => {
    const jwks = (await (await fetch(`${s.hale.url}/oauth2/jwks`)).json()) as { keys: Record<string, unknown>[] };
    expect(jwks.keys.length).toBeGreaterThanOrEqual(2);
    for (const k of jwks.keys) {
      expect(k).not.toHaveProperty('d');
      expect(k).toMatchObject({ kty: 'RSA', use: 'sig' });
    }
    expect(jwks.keys.map((k) => k.alg)).toEqual(expect.arrayContaining(['RS256', 'RS384']));
  });
});
