import { ClientStorage, MedplumClient, parseJWTPayload } from '@medplum/core';

/*
 * The portal's one MedplumClient. Hale is a SMART authorization server, not a Medplum server: the portal is the
 * registered public client `hale-portal` (server/src/auth/oauth/portal-client.ts), signs in with the
 * authorization-code flow and PKCE, and learns who is signed in from its access token's claims.
 */

export const CLIENT_ID = 'hale-portal';
export const SCOPE = 'openid fhirUser profile online_access user/*.cruds';

const storage = new ClientStorage(window.localStorage);

export const medplum = new MedplumClient({
  baseUrl: `${window.location.origin}/`,
  fhirUrlPath: 'fhir/R4',
  clientId: CLIENT_ID,
  storage,
  // Every screen shows what the server holds now (a revoked share must disappear on reload, not after a minute).
  cacheTime: 0,
  onUnauthenticated: () => window.location.assign('/signin'),
});

export function redirectUri(): string {
  return `${window.location.origin}/signin`;
}

/** Sends the browser to Hale's sign-in page; it comes back to /signin with a code. */
export async function startSignIn(): Promise<void> {
  const { codeChallenge, codeChallengeMethod } = await medplum.startPkce();
  const url = new URL('/oauth2/authorize', window.location.origin);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: CLIENT_ID,
    redirect_uri: redirectUri(),
    scope: SCOPE,
    state: storage.getString('pkceState') ?? '',
    aud: `${window.location.origin}/fhir/R4`,
    code_challenge: codeChallenge,
    code_challenge_method: codeChallengeMethod,
    // The portal's "Sign in" means sign in: never reuse a login session someone else left in this browser.
    prompt: 'login',
  }).toString();
  window.location.assign(url.toString());
}

/** Finishes the sign-in with the code Hale sent back; refuses a state this browser did not start. */
export async function finishSignIn(params: URLSearchParams): Promise<void> {
  const error = params.get('error');
  if (error) {
    throw new Error(params.get('error_description') ?? `Sign-in did not complete (${error}).`);
  }
  const expected = storage.getString('pkceState');
  if (!expected || params.get('state') !== expected) {
    throw new Error('This sign-in was not started here, or it was started in another tab. Please sign in again.');
  }
  storage.setString('pkceState', undefined);
  await medplum.processCode(params.get('code') ?? '', { redirectUri: redirectUri() });
}

/** Ends the portal session: the refresh token is revoked at Hale, then forgotten here. */
export async function signOut(): Promise<void> {
  const refreshToken = storage.getObject<{ refreshToken?: string }>('activeLogin')?.refreshToken;
  if (refreshToken) {
    await fetch('/oauth2/revoke', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: refreshToken, client_id: CLIENT_ID }).toString(),
    }).catch(() => undefined);
  }
  medplum.clear();
}

export interface Caller {
  /** `Patient/…`, `Practitioner/…`, … */
  fhirUser: string;
  resourceType: string;
  id: string;
  roles: string[];
}

/** Who is signed in, from the access token (Hale's tokens carry fhirUser and roles). */
export function currentCaller(): Caller | undefined {
  const token = medplum.getAccessToken();
  if (!token) {
    return undefined;
  }
  const claims = parseJWTPayload(token) as { fhirUser?: string; roles?: string[] };
  const [resourceType, id] = (claims.fhirUser ?? '').split('/');
  if (!resourceType || !id) {
    return undefined;
  }
  return { fhirUser: `${resourceType}/${id}`, resourceType, id, roles: claims.roles ?? [] };
}
