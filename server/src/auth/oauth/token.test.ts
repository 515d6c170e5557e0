import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import type { TestServer } from '../../test/test-server';
import { verifyAccessToken } from './verify';
import type { TestAccount } from './test-support';
import {
  authorizeCode,
  createAccount,
  createClient,
  pkce,
  startOAuthServer,
  testDeps,
  tokenRequest,
} from './test-support';

const REDIRECT = 'http://localhost:9999/callback';
const SCOPE = 'launch/patient patient/*.rs openid fhirUser offline_access';

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

/** A fresh code and its verifier, through the real sign-in and consent pages. */
async function freshCode(scope = SCOPE, client = clientId): Promise<{ code: string; verifier: string }> {
  const { verifier, challenge } = pkce();
  const { code } = await authorizeCode(s, account, { clientId: client, scope, challenge });
  return { code, verifier };
}

const exchange = (code: string, verifier: string | undefined, extra: Record<string, string> = {}) =>
  tokenRequest(s, {
    grant_type: 'authorization_code',
    code,
    redirect_uri: REDIRECT,
    client_id: clientId,
    ...(verifier === undefined ? {} : { code_verifier: verifier }),
    ...extra,
  });

const introspect = async (token: string): Promise<any> => {
  const { client, clientSecret } = await createClient(s, { type: 'confidential-symmetric' });
  const res = await tokenRequest(
    s,
    { token, client_id: client.client_id, client_secret: clientSecret as string },
    '/oauth2/introspect'
  );
  expect(res.status).toBe(200);
  return res.body;
};

describe('authorization_code', () => {
  test('answers the SMART token response, uncached', async () => {
    const { code, verifier } = await freshCode();
    const res = await exchange(code, verifier);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('pragma')).toBe('no-cache');
    expect(res.body).toMatchObject({
      token_type: 'Bearer',
      expires_in: 300,
      scope: SCOPE,
      patient: account.patientId,
      need_patient_banner: true,
      smart_style_url: `${s.hale.url}/oauth2/smart-style.json`,
    });
    expect(typeof res.body.refresh_token).toBe('string');
    expect(decodeProtectedHeader(res.body.access_token)).toMatchObject({ alg: 'RS384', typ: 'at+jwt' });

    const jwks = createRemoteJWKSet(new URL(`${s.hale.url}/oauth2/jwks`));
    const id = await jwtVerify(res.body.id_token, jwks, {
      issuer: s.hale.url,
      audience: clientId,
      algorithms: ['RS256'],
    });
    expect(id.payload).toMatchObject({ sub: account.id, fhirUser: `${s.base}/Patient/${account.patientId}` });

    const claims = await verifyAccessToken(testDeps(s), res.body.access_token);
    expect(claims).toMatchObject({
      iss: s.hale.url,
      aud: s.base,
      sub: account.id,
      client_id: clientId,
      scope: SCOPE,
      patient: account.patientId,
      fhirUser: `Patient/${account.patientId}`,
      roles: ['patient'],
    });
  });

  /** The code is used up: presented again with the right verifier, it fails and revokes the grant. */
  const expectUsedUp = async (code: string, verifier: string): Promise<void> => {
    const late = await exchange(code, verifier);
    expect(late.status).toBe(400);
    expect(late.body).toEqual({
      error: 'invalid_grant',
      error_description: 'The authorization code was already used: every token issued from it is revoked',
    });
  };

  test('a missing, blank or wrong code_verifier fails, and uses the code up', async () => {
    for (const v of [undefined, '']) {
      const { code, verifier } = await freshCode();
      const res = await exchange(code, v);
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ error: 'invalid_request', error_description: 'code_verifier is required (PKCE)' });
      await expectUsedUp(code, verifier);
    }
    const { code, verifier } = await freshCode();
    const malformed = await exchange(code, 'short');
    expect(malformed.body.error).toBe('invalid_request');
    await expectUsedUp(code, verifier);
    const { code: code2, verifier: v2 } = await freshCode();
    const wrong = await exchange(code2, pkce().verifier);
    expect(wrong.status).toBe(400);
    expect(wrong.body.error).toBe('invalid_grant');
    await expectUsedUp(code2, v2);
  });

  test('a code is bound to its redirect_uri and client; a presentation with the wrong ones uses it up', async () => {
    const { code, verifier } = await freshCode();
    expect((await exchange(code, verifier, { redirect_uri: `${REDIRECT}/other` })).body.error).toBe('invalid_grant');
    await expectUsedUp(code, verifier);
    const other = await createClient(s);
    const { code: code2, verifier: v2 } = await freshCode();
    expect((await exchange(code2, v2, { client_id: other.client.client_id })).body.error).toBe('invalid_grant');
    await expectUsedUp(code2, v2);
    const { code: code3, verifier: v3 } = await freshCode();
    const noRedirect = await tokenRequest(s, {
      grant_type: 'authorization_code',
      code: code3,
      client_id: clientId,
      code_verifier: v3,
    });
    expect(noRedirect.body).toEqual({ error: 'invalid_request', error_description: 'redirect_uri is required' });
    await expectUsedUp(code3, v3);
  });

  test('reusing a code fails and revokes every token issued from it', async () => {
    const { code, verifier } = await freshCode();
    const first = await exchange(code, verifier);
    expect(first.status).toBe(200);
    expect((await introspect(first.body.access_token)).active).toBe(true);
    const second = await exchange(code, verifier);
    expect(second.status).toBe(400);
    expect(second.body.error).toBe('invalid_grant');
    expect(await introspect(first.body.access_token)).toEqual({ active: false });
    expect(await introspect(first.body.refresh_token)).toEqual({ active: false });
    await expect(verifyAccessToken(testDeps(s), first.body.access_token)).rejects.toThrow();
  });

  test('a public client cannot pose as a confidential one, nor the reverse', async () => {
    const { client } = await createClient(s, { type: 'confidential-symmetric' });
    const res = await tokenRequest(s, {
      grant_type: 'authorization_code',
      code: 'x',
      redirect_uri: REDIRECT,
      client_id: client.client_id,
    });
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('invalid_client');
    const bad = await tokenRequest(s, {
      grant_type: 'authorization_code',
      code: 'x',
      client_id: client.client_id,
      client_secret: 'wrong',
    });
    expect(bad.status).toBe(401);
  });

  test('a confidential client authenticates with client_secret_basic', async () => {
    const { client, clientSecret } = await createClient(s, { type: 'confidential-symmetric' });
    const { verifier, challenge } = pkce();
    const { code } = await authorizeCode(s, account, { clientId: client.client_id, scope: 'patient/*.rs', challenge });
    const basic = Buffer.from(`${client.client_id}:${clientSecret as string}`).toString('base64');
    const res = await tokenRequest(
      s,
      { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier },
      '/oauth2/token',
      { authorization: `Basic ${basic}` }
    );
    expect(res.status).toBe(200);
    const wrong = Buffer.from(`${client.client_id}:nope`).toString('base64');
    const denied = await tokenRequest(s, { grant_type: 'refresh_token', refresh_token: 'x' }, '/oauth2/token', {
      authorization: `Basic ${wrong}`,
    });
    expect(denied.status).toBe(401);
    expect(denied.headers.get('www-authenticate')).toContain('Basic');
  });

  test('malformed requests get RFC 6749 errors', async () => {
    expect((await tokenRequest(s, { grant_type: 'password', client_id: clientId })).body.error).toBe(
      'unsupported_grant_type'
    );
    expect((await tokenRequest(s, { client_id: clientId })).body.error).toBe('invalid_request');
    const json = await fetch(`${s.hale.url}/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ grant_type: 'authorization_code' }),
    });
    expect(json.status).toBe(400);
    expect(((await json.json()) as { error: string }).error).toBe('invalid_request');
    const twice = await fetch(`${s.hale.url}/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `grant_type=refresh_token&client_id=${clientId}&client_id=${clientId}`,
    });
    expect(((await twice.json()) as { error: string }).error).toBe('invalid_request');
  });
});

describe('refresh_token', () => {
  test('rotates on every use; the old one, used again, revokes the whole grant', async () => {
    const { code, verifier } = await freshCode();
    const first = (await exchange(code, verifier)).body;
    const second = await tokenRequest(s, {
      grant_type: 'refresh_token',
      refresh_token: first.refresh_token,
      client_id: clientId,
    });
    expect(second.status).toBe(200);
    expect(second.body.scope).toBe(SCOPE);
    expect(second.body.patient).toBe(account.patientId);
    expect(second.body.refresh_token).not.toBe(first.refresh_token);

    const replay = await tokenRequest(s, {
      grant_type: 'refresh_token',
      refresh_token: first.refresh_token,
      client_id: clientId,
    });
    expect(replay.status).toBe(400);
    expect(replay.body.error).toBe('invalid_grant');
    expect((await introspect(second.body.access_token)).active).toBe(false);
    const newest = await tokenRequest(s, {
      grant_type: 'refresh_token',
      refresh_token: second.body.refresh_token,
      client_id: clientId,
    });
    expect(newest.body.error).toBe('invalid_grant');
  });

  test('may narrow the scope but never widen it', async () => {
    const { code, verifier } = await freshCode();
    const first = (await exchange(code, verifier)).body;
    const wider = await tokenRequest(s, {
      grant_type: 'refresh_token',
      refresh_token: first.refresh_token,
      client_id: clientId,
      scope: 'patient/*.cruds',
    });
    expect(wider.status).toBe(400);
    expect(wider.body.error).toBe('invalid_scope');
    // The refused request did not cost the refresh token.
    const narrower = await tokenRequest(s, {
      grant_type: 'refresh_token',
      refresh_token: first.refresh_token,
      client_id: clientId,
      scope: 'patient/Observation.rs offline_access',
    });
    expect(narrower.status).toBe(200);
    expect(narrower.body.scope).toBe('patient/Observation.rs offline_access');
    // The new refresh token keeps the original scopes (RFC 6749 §6).
    const back = await tokenRequest(s, {
      grant_type: 'refresh_token',
      refresh_token: narrower.body.refresh_token,
      client_id: clientId,
    });
    expect(back.body.scope).toBe(SCOPE);
  });

  test('is only issued for offline_access or online_access', async () => {
    const { code, verifier } = await freshCode('patient/*.rs');
    expect((await exchange(code, verifier)).body.refresh_token).toBeUndefined();
  });

  test('online_access refresh tokens end when the login session is signed out', async () => {
    const { verifier, challenge } = pkce();
    const { code, browser } = await authorizeCode(s, account, {
      clientId,
      scope: 'patient/*.rs online_access',
      challenge,
    });
    const tokens = (await exchange(code, verifier)).body;
    expect(await introspect(tokens.refresh_token)).toMatchObject({ active: true, token_type: 'refresh_token' });
    // Sign out from a new authorization page of the same browser session.
    const consent = await browser.get(
      `${s.hale.url}/oauth2/authorize?${new URLSearchParams({
        response_type: 'code',
        client_id: clientId,
        redirect_uri: REDIRECT,
        scope: 'patient/*.rs online_access',
        state: 's',
        aud: s.base,
        code_challenge: challenge,
        code_challenge_method: 'S256',
        prompt: 'consent',
      })}`
    );
    const field = (name: string): string => new RegExp(`name="${name}" value="([^"]*)"`).exec(consent.body)?.[1] ?? '';
    const out = await browser.post('/oauth2/logout', { flow: field('flow'), csrf: field('csrf') });
    expect(out.status).toBe(303);
    expect(await introspect(tokens.refresh_token)).toEqual({ active: false });
    expect(await introspect(tokens.access_token)).toEqual({ active: false });
  });
});

describe('revocation and introspection', () => {
  test('introspection reports scope, client, subject, context and expiry', async () => {
    const { code, verifier } = await freshCode();
    const tokens = (await exchange(code, verifier)).body;
    const info = await introspect(tokens.access_token);
    expect(info).toMatchObject({
      active: true,
      scope: SCOPE,
      client_id: clientId,
      sub: account.id,
      patient: account.patientId,
      fhirUser: `${s.base}/Patient/${account.patientId}`,
      iss: s.hale.url,
    });
    expect(info.exp - Math.floor(Date.now() / 1000)).toBeLessThanOrEqual(300);
    expect(await introspect('not-a-token')).toEqual({ active: false });
  });

  test('introspection needs client authentication or a bearer token', async () => {
    const { code, verifier } = await freshCode();
    const tokens = (await exchange(code, verifier)).body;
    const anonymous = await tokenRequest(s, { token: tokens.access_token, client_id: clientId }, '/oauth2/introspect');
    expect(anonymous.status).toBe(401);
    const bearer = await tokenRequest(s, { token: tokens.access_token }, '/oauth2/introspect', {
      authorization: `Bearer ${tokens.access_token}`,
    });
    expect(bearer.status).toBe(200);
    expect(bearer.body.active).toBe(true);
  });

  test('revoking a refresh token ends the grant; revoking an access token ends only it', async () => {
    const { code, verifier } = await freshCode();
    const tokens = (await exchange(code, verifier)).body;
    const r1 = await tokenRequest(s, { token: tokens.access_token, client_id: clientId }, '/oauth2/revoke');
    expect(r1.status).toBe(200);
    expect((await introspect(tokens.access_token)).active).toBe(false);
    expect((await introspect(tokens.refresh_token)).active).toBe(true);
    const r2 = await tokenRequest(
      s,
      { token: tokens.refresh_token, client_id: clientId, token_type_hint: 'refresh_token' },
      '/oauth2/revoke'
    );
    expect(r2.status).toBe(200);
    expect((await introspect(tokens.refresh_token)).active).toBe(false);
    // Unknown tokens are answered the same way.
    expect((await tokenRequest(s, { token: 'unknown', client_id: clientId }, '/oauth2/revoke')).status).toBe(200);
  });

  test('a client cannot revoke another client’s tokens', async () => {
    const { code, verifier } = await freshCode();
    const tokens = (await exchange(code, verifier)).body;
    const other = await createClient(s);
    await tokenRequest(s, { token: tokens.refresh_token, client_id: other.client.client_id }, '/oauth2/revoke');
    expect((await introspect(tokens.refresh_token)).active).toBe(true);
  });
});
