import { Browser, field, pkce } from '../../../server/src/auth/oauth/test-support';
import { PORTAL_CLIENT_ID, PORTAL_SCOPES } from '../../../server/src/auth/oauth/portal-client';

/**
 * Test support: signs in as the portal does — authorize with PKCE, the password form, the approval page when
 * one is shown, the code for a token — over HTTP against a running Hale. Resolves to the access token response.
 */
export async function signInToPortal(
  hale: { url: string; fhirBaseUrl: string },
  email: string,
  password: string
): Promise<{ access_token: string; patient?: string; scope: string }> {
  const browser = new Browser(hale.url);
  const { verifier, challenge } = pkce();
  const redirectUri = `${new URL(hale.url).origin}/signin`;
  const query = new URLSearchParams({
    response_type: 'code',
    client_id: PORTAL_CLIENT_ID,
    redirect_uri: redirectUri,
    scope: PORTAL_SCOPES.join(' '),
    state: 'demo',
    aud: hale.fhirBaseUrl,
    code_challenge: challenge,
    code_challenge_method: 'S256',
  });
  const login = await browser.get(`/oauth2/authorize?${query}`);
  const signedIn = await browser.post('/oauth2/login', {
    flow: field(login.body, 'flow'),
    csrf: field(login.body, 'csrf'),
    email,
    password,
  });
  if (signedIn.status !== 303 || !signedIn.location) {
    throw new Error(`sign-in as ${email} failed: ${signedIn.status} ${signedIn.body.slice(0, 500)}`);
  }
  let next = await browser.get(signedIn.location);
  if (next.status === 200) {
    next = await browser.post('/oauth2/authorize/decision', {
      flow: field(next.body, 'flow'),
      csrf: field(next.body, 'csrf'),
      decision: 'approve',
      scope: [...next.body.matchAll(/name="scope" value="([^"]*)"/g)].map((m) => field(m[0], 'scope')),
    });
  }
  const code = new URL(next.location ?? '', hale.url).searchParams.get('code');
  if (!code) {
    throw new Error(`no code after signing in as ${email}: ${next.status} ${next.location ?? next.body.slice(0, 500)}`);
  }
  const res = await fetch(`${hale.url}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: redirectUri,
      client_id: PORTAL_CLIENT_ID,
      code_verifier: verifier,
    }),
  });
  if (res.status !== 200) {
    throw new Error(`token request for ${email} failed: ${res.status} ${await res.text()}`);
  }
  return (await res.json()) as { access_token: string; patient?: string; scope: string };
}
