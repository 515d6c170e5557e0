import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from '../../db/sql';
import { sharingConsent } from '../../test/consent-fixtures';
import type { TestServer } from '../../test/test-server';
import {
  Browser,
  authorizeCode,
  authorizeUrl,
  createAccount,
  createClient,
  createResource,
  field,
  pkce,
  signIn,
  startOAuthServer,
  tokenRequest,
} from './test-support';

const VITALS = 'patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|vital-signs';

let s: TestServer;
let clientId: string;
const smsSink = join(mkdtempSync(join(tmpdir(), 'hale-sms-')), 'sms.jsonl');

beforeAll(async () => {
  s = await startOAuthServer({ SMS_SINK_FILE: smsSink });
  clientId = (await createClient(s)).client.client_id;
});
afterAll(async () => {
  await s.stop();
});

function redirectParams(location: string | undefined): URLSearchParams {
  expect(location).toBeDefined();
  const url = new URL(location as string);
  expect(`${url.origin}${url.pathname}`).toBe('http://localhost:9999/callback');
  return url.searchParams;
}

describe('authorization endpoint: errors before the redirect_uri is trusted are pages', () => {
  test('an unknown client gets a page, not a redirect', async () => {
    const res = await new Browser(s.hale.url).get(
      authorizeUrl(s, { clientId: 'nope', scope: 'openid', challenge: pkce().challenge })
    );
    expect(res.status).toBe(400);
    expect(res.location).toBeUndefined();
    expect(res.body).toContain('Unknown app');
  });

  test('a redirect_uri that only starts with the registered one is refused on a page', async () => {
    for (const redirectUri of [
      'http://localhost:9999/callback/evil',
      'http://localhost:9999/callback?x=1',
      'http://localhost:9999/callbackx',
    ]) {
      const res = await new Browser(s.hale.url).get(
        authorizeUrl(s, { clientId, redirectUri, scope: 'openid', challenge: pkce().challenge })
      );
      expect(res.status).toBe(400);
      expect(res.location).toBeUndefined();
      expect(res.body).toContain('Unregistered redirect address');
    }
  });

  test('pages are not cached, not framed, and run no scripts', async () => {
    const res = await new Browser(s.hale.url).get(
      authorizeUrl(s, { clientId, scope: 'openid', challenge: pkce().challenge })
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('set-cookie')).toMatch(/HttpOnly; SameSite=Lax/);
  });
});

describe('authorization endpoint: POST (SMART authorize-post)', () => {
  test('a form-posted authorization request leads to the same sign-in page', async () => {
    const params = Object.fromEntries(
      new URL(authorizeUrl(s, { clientId, scope: 'openid patient/*.rs', challenge: pkce().challenge })).searchParams
    );
    const res = await new Browser(s.hale.url).post('/oauth2/authorize', params);
    expect(res.status).toBe(200);
    expect(res.body).toContain('Sign in to Hale');
  });
});

describe('authorization endpoint: errors after it go back to the app with the state', () => {
  const errorOf = async (extra: Record<string, string>, aud?: string): Promise<URLSearchParams> => {
    const res = await new Browser(s.hale.url).get(
      authorizeUrl(s, { clientId, scope: 'openid patient/*.rs', challenge: pkce().challenge, aud, extra })
    );
    expect(res.status).toBe(302);
    return redirectParams(res.location);
  };

  test('the plain PKCE method is refused', async () => {
    const p = await errorOf({ code_challenge_method: 'plain' });
    expect(p.get('error')).toBe('invalid_request');
    expect(p.get('state')).toBe('state-123');
  });

  test('a missing code_challenge is refused', async () => {
    const q = new URL(authorizeUrl(s, { clientId, scope: 'openid', challenge: 'x' }));
    q.searchParams.delete('code_challenge');
    q.searchParams.delete('code_challenge_method');
    const res = await new Browser(s.hale.url).get(q.toString());
    expect(redirectParams(res.location).get('error')).toBe('invalid_request');
  });

  test('an aud other than this FHIR base is refused', async () => {
    const p = await errorOf({}, 'https://evil.example.org/fhir');
    expect(p.get('error')).toBe('invalid_request');
    expect(p.get('error_description')).toContain('aud');
  });

  test('response_type other than code is refused', async () => {
    expect((await errorOf({ response_type: 'token' })).get('error')).toBe('unsupported_response_type');
  });

  test('scopes the client may not have are dropped; none left is invalid_scope', async () => {
    expect((await errorOf({ scope: 'system/*.rs nonsense/scope' })).get('error')).toBe('invalid_scope');
  });

  test('prompt=none without a signed-in user answers login_required', async () => {
    expect((await errorOf({ prompt: 'none' })).get('error')).toBe('login_required');
  });

  test('an unknown launch is refused', async () => {
    expect((await errorOf({ launch: 'no-such-launch' })).get('error')).toBe('invalid_request');
  });
});

describe('sign-in', () => {
  test('a wrong password re-renders the form with a generic message', async () => {
    const account = await createAccount(s);
    const browser = new Browser(s.hale.url);
    const login = await browser.get(authorizeUrl(s, { clientId, scope: 'openid', challenge: pkce().challenge }));
    const res = await signIn(browser, login.body, account.email, 'wrong password!!');
    expect(res.status).toBe(401);
    expect(res.body).toContain('Invalid email or password');
  });

  test('an unverified email cannot sign in', async () => {
    const account = await createAccount(s, { verified: false });
    const browser = new Browser(s.hale.url);
    const login = await browser.get(authorizeUrl(s, { clientId, scope: 'openid', challenge: pkce().challenge }));
    const res = await signIn(browser, login.body, account.email);
    expect(res.status).toBe(403);
    expect(res.body).toContain('Confirm your email address first');
    expect(res.location).toBeUndefined();
  });

  test('a pending provider sees their application status and gets no code', async () => {
    const account = await createAccount(s, {
      roles: ['provider'],
      status: 'pending',
      patient: false,
      name: 'Dr Pending',
    });
    const browser = new Browser(s.hale.url);
    const login = await browser.get(
      authorizeUrl(s, { clientId, scope: 'openid user/*.rs', challenge: pkce().challenge })
    );
    const res = await signIn(browser, login.body, account.email);
    expect(res.status).toBe(403);
    expect(res.body).toContain('awaiting review');
    expect(res.location).toBeUndefined();
    expect(res.headers.get('set-cookie')).toContain('Max-Age=0');
  });

  test('a one-time code by SMS signs the person in', async () => {
    const account = await createAccount(s, { phone: '+64210000001' });
    const browser = new Browser(s.hale.url);
    const login = await browser.get(authorizeUrl(s, { clientId, scope: 'patient/*.rs', challenge: pkce().challenge }));
    const form = { flow: field(login.body, 'flow'), csrf: field(login.body, 'csrf'), email: account.email };
    const codePage = await browser.post('/oauth2/login/code/request', { ...form, channel: 'sms' });
    expect(codePage.status).toBe(200);
    expect(codePage.body).toContain('Enter your code');
    const code = await smsCode('+64210000001');
    const wrong = await browser.post('/oauth2/login/code', {
      ...form,
      flow: field(codePage.body, 'flow'),
      code: code === '000000' ? '111111' : '000000',
    });
    expect(wrong.status).toBe(401);
    const right = await browser.post('/oauth2/login/code', { ...form, flow: field(wrong.body, 'flow'), code });
    expect(right.status).toBe(303);
    const consent = await browser.get(right.location as string);
    expect(consent.body).toContain('Allow Test App?');
  });

  test('a form post without the session CSRF token is refused', async () => {
    const account = await createAccount(s);
    const browser = new Browser(s.hale.url);
    const login = await browser.get(authorizeUrl(s, { clientId, scope: 'openid', challenge: pkce().challenge }));
    const res = await browser.post('/oauth2/login', {
      flow: field(login.body, 'flow'),
      csrf: 'forged',
      email: account.email,
      password: 'x',
    });
    expect(res.status).toBe(403);
    const other = new Browser(s.hale.url); // another browser: no session cookie
    const res2 = await other.post('/oauth2/login', {
      flow: field(login.body, 'flow'),
      csrf: field(login.body, 'csrf'),
      email: account.email,
      password: 'x',
    });
    expect(res2.status).toBe(403);
  });
});

describe('consent', () => {
  test('lists the scopes in plain words, each with a checkbox', async () => {
    const account = await createAccount(s);
    const browser = new Browser(s.hale.url);
    const login = await browser.get(
      authorizeUrl(s, {
        clientId,
        scope: `launch/patient ${VITALS} patient/MedicationRequest.cruds`,
        challenge: pkce().challenge,
      })
    );
    const next = await browser.get((await signIn(browser, login.body, account.email)).location as string);
    expect(next.status).toBe(200);
    expect(next.body).toContain('Read your vital signs');
    expect(next.body).toContain('Read and write your medications');
    expect(next.body).toContain('Signed in as Aroha Ngata');
    expect(next.body.match(/type="checkbox"/g)).toHaveLength(2);
    expect(next.body).not.toContain('1990-04-02'); // no PHI beyond the user's name
  });

  test('an unticked scope is not granted', async () => {
    const account = await createAccount(s);
    const { verifier, challenge } = pkce();
    const scope = `launch/patient ${VITALS} patient/MedicationRequest.rs openid fhirUser`;
    const { code } = await authorizeCode(s, account, { clientId, scope, challenge }, [VITALS, 'openid']);
    const res = await tokenRequest(s, {
      grant_type: 'authorization_code',
      code,
      redirect_uri: 'http://localhost:9999/callback',
      code_verifier: verifier,
      client_id: clientId,
    });
    expect(res.status).toBe(200);
    expect(res.body.scope).toBe(`launch/patient ${VITALS} openid`);
    expect(res.body.patient).toBe(account.patientId);
    expect(res.body.refresh_token).toBeUndefined();
  });

  test('denying sends access_denied back to the app', async () => {
    const account = await createAccount(s);
    const browser = new Browser(s.hale.url);
    const login = await browser.get(authorizeUrl(s, { clientId, scope: 'patient/*.rs', challenge: pkce().challenge }));
    const consent = await browser.get((await signIn(browser, login.body, account.email)).location as string);
    const res = await browser.post('/oauth2/authorize/decision', {
      flow: field(consent.body, 'flow'),
      csrf: field(consent.body, 'csrf'),
      decision: 'deny',
    });
    expect(res.status).toBe(303);
    const p = redirectParams(res.location);
    expect(p.get('error')).toBe('access_denied');
    expect(p.get('state')).toBe('state-123');
  });

  test('an approval is remembered, listed, and revocable by the person', async () => {
    const account = await createAccount(s);
    const { verifier, challenge } = pkce();
    const { code, browser } = await authorizeCode(s, account, {
      clientId,
      scope: 'patient/*.rs offline_access',
      challenge,
    });
    const token = await tokenRequest(s, {
      grant_type: 'authorization_code',
      code,
      redirect_uri: 'http://localhost:9999/callback',
      code_verifier: verifier,
      client_id: clientId,
    });
    // Same browser, same scopes: straight back to the app, no consent page.
    const again = await browser.get(authorizeUrl(s, { clientId, scope: 'patient/*.rs', challenge: pkce().challenge }));
    expect(again.status).toBe(302);
    expect(redirectParams(again.location).get('code')).toBeTruthy();

    const auth = { authorization: `Bearer ${token.body.access_token}` };
    const list = await fetch(`${s.hale.url}/oauth2/approvals`, { headers: auth });
    expect(await list.json()).toEqual([
      expect.objectContaining({ client_id: clientId, client_name: 'Test App', scope: 'patient/*.rs offline_access' }),
    ]);
    const revoked = await fetch(`${s.hale.url}/oauth2/approvals/${clientId}/revoke`, { method: 'POST', headers: auth });
    expect(revoked.status).toBe(204);
    // Every token of the app is dead, the refresh token too.
    expect((await fetch(`${s.hale.url}/oauth2/approvals`, { headers: auth })).status).toBe(401);
    const refreshed = await tokenRequest(s, {
      grant_type: 'refresh_token',
      refresh_token: token.body.refresh_token,
      client_id: clientId,
    });
    expect(refreshed.body.error).toBe('invalid_grant');
  });
});

describe('patient context', () => {
  test('an account that is neither a patient nor a clinician gets no patient picker', async () => {
    const developer = await createAccount(s, { roles: ['developer'], patient: false });
    const browser = new Browser(s.hale.url);
    const login = await browser.get(
      authorizeUrl(s, { clientId, scope: 'launch/patient patient/*.rs', challenge: pkce().challenge })
    );
    const next = await browser.get((await signIn(browser, login.body, developer.email)).location as string);
    expect(next.status).toBe(302);
    expect(redirectParams(next.location).get('error')).toBe('access_denied');
  });

  test('a provider picks, among the patients sharing with them, the patient for a standalone launch', async () => {
    const provider = await createAccount(s, { roles: ['provider'], patient: false, name: 'Dr Who' });
    const practitioner = await createResource(s, { resourceType: 'Practitioner', name: [{ family: 'Who' }] });
    await s.hale.db.query(
      sql`UPDATE account SET profile_type = 'Practitioner', profile_id = ${practitioner.id} WHERE id = ${provider.id}`
    );
    const target = await createResource(s, { resourceType: 'Patient', name: [{ given: ['Mere'], family: 'Tane' }] });
    const stranger = await createResource(s, {
      resourceType: 'Patient',
      name: [{ given: ['Rawiri'], family: 'Tane' }],
    });
    await createResource(
      s,
      sharingConsent({
        patient: target.id,
        actor: { reference: `Practitioner/${practitioner.id}` },
        categories: ['all'],
      })
    );
    const browser = new Browser(s.hale.url);
    const { verifier, challenge } = pkce();
    const login = await browser.get(authorizeUrl(s, { clientId, scope: 'launch/patient patient/*.rs', challenge }));
    const picker = await browser.get((await signIn(browser, login.body, provider.email)).location as string);
    expect(picker.body).toContain('Choose a patient');
    const search = await browser.get(
      `/oauth2/authorize/next?flow=${encodeURIComponent(field(picker.body, 'flow'))}&q=Tane`
    );
    expect(search.body).toContain('Mere Tane');
    // A patient who shares nothing with the provider is neither listed nor pickable.
    expect(search.body).not.toContain('Rawiri');
    const refused = await browser.post('/oauth2/authorize/patient', {
      flow: field(search.body, 'flow'),
      csrf: field(search.body, 'csrf'),
      patient: stranger.id,
    });
    expect(refused.body).toContain('Unknown patient');
    const picked = await browser.post('/oauth2/authorize/patient', {
      flow: field(search.body, 'flow'),
      csrf: field(search.body, 'csrf'),
      patient: target.id,
    });
    const consent = await browser.get(picked.location as string);
    expect(consent.body).toContain('Read the patient&#39;s health record');
    const done = await browser.post('/oauth2/authorize/decision', {
      flow: field(consent.body, 'flow'),
      csrf: field(consent.body, 'csrf'),
      decision: 'approve',
      scope: 'patient/*.rs',
    });
    const code = redirectParams(done.location).get('code') as string;
    const res = await tokenRequest(s, {
      grant_type: 'authorization_code',
      code,
      redirect_uri: 'http://localhost:9999/callback',
      code_verifier: verifier,
      client_id: clientId,
    });
    expect(res.body).toMatchObject({
      patient: target.id,
      need_patient_banner: true,
      scope: 'launch/patient patient/*.rs',
    });
  });
});

/** The code in the newest SMS to this number in the development sink file. */
async function smsCode(to: string): Promise<string> {
  for (let i = 0; i < 50; i++) {
    const lines = existsSync(smsSink) ? readFileSync(smsSink, 'utf8').trim().split('\n') : [];
    const last = lines
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { to: string; body: string })
      .filter((m) => m.to === to)
      .pop();
    const code = last ? /\b(\d{6})\b/.exec(last.body)?.[1] : undefined;
    if (code) {
      return code;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no SMS to ${to}`);
}
