import type { TestServer } from '../../test/test-server';
import { smartSecurityExtension } from './discovery';
import { issueAccessToken } from './issue';
import type { TestAccount } from './test-support';
import {
  authorizeCode,
  createAccount,
  createClient,
  createResource,
  pkce,
  startOAuthServer,
  testDeps,
  tokenRequest,
} from './test-support';

let s: TestServer;

beforeAll(async () => {
  s = await startOAuthServer();
});
afterAll(async () => {
  await s.stop();
});

describe('discovery', () => {
  test('smart-configuration is JSON whatever the Accept header, with absolute URLs and S256 only', async () => {
    const res = await fetch(`${s.base}/.well-known/smart-configuration`, {
      headers: { accept: 'text/html', origin: 'https://app.example.org' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    const doc = (await res.json()) as Record<string, any>;
    expect(doc).toMatchObject({
      issuer: s.hale.url,
      jwks_uri: `${s.hale.url}/oauth2/jwks`,
      authorization_endpoint: `${s.hale.url}/oauth2/authorize`,
      token_endpoint: `${s.hale.url}/oauth2/token`,
      introspection_endpoint: `${s.hale.url}/oauth2/introspect`,
      revocation_endpoint: `${s.hale.url}/oauth2/revoke`,
      code_challenge_methods_supported: ['S256'],
      grant_types_supported: ['authorization_code', 'refresh_token', 'client_credentials'],
      response_types_supported: ['code'],
      token_endpoint_auth_methods_supported: ['private_key_jwt', 'client_secret_basic', 'client_secret_post'],
      token_endpoint_auth_signing_alg_values_supported: ['RS384', 'ES384'],
    });
    expect(doc.capabilities).toEqual(
      expect.arrayContaining([
        'launch-standalone',
        'launch-ehr',
        'client-public',
        'client-confidential-asymmetric',
        'sso-openid-connect',
      ])
    );
    expect(doc.scopes_supported).toEqual(
      expect.arrayContaining(['openid', 'fhirUser', 'launch/patient', 'offline_access'])
    );
    for (const [key, value] of Object.entries(doc)) {
      if (key.endsWith('_endpoint') || key.endsWith('_uri')) {
        expect(new URL(value as string).href).toBe(value);
      }
    }
  });

  test('openid-configuration names the issuer, keys and RS256 id tokens', async () => {
    const doc = (await (await fetch(`${s.hale.url}/.well-known/openid-configuration`)).json()) as Record<string, any>;
    expect(doc).toMatchObject({
      issuer: s.hale.url,
      jwks_uri: `${s.hale.url}/oauth2/jwks`,
      id_token_signing_alg_values_supported: ['RS256'],
      subject_types_supported: ['public'],
    });
  });

  test('the CapabilityStatement security block carries the SMART oauth-uris extension', () => {
    const security = smartSecurityExtension('https://hale.example.org/fhir/R4');
    expect(security.service?.[0]?.coding?.[0]?.code).toBe('SMART-on-FHIR');
    const uris = security.extension?.[0];
    expect(uris?.url).toBe('http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris');
    expect(uris?.extension).toEqual(
      expect.arrayContaining([
        { url: 'authorize', valueUri: 'https://hale.example.org/oauth2/authorize' },
        { url: 'token', valueUri: 'https://hale.example.org/oauth2/token' },
      ])
    );
    expect(smartSecurityExtension('https://hale.example.org')).toEqual(security);
  });
});

describe('EHR launch', () => {
  let account: TestAccount;
  let appId: string;
  let portalToken: string;
  let encounterId: string;

  beforeAll(async () => {
    account = await createAccount(s);
    const portal = await createClient(s, { name: 'Portal', scope: 'openid fhirUser' });
    portalToken = (
      await issueAccessToken(testDeps(s), {
        accountId: account.id,
        clientId: portal.client.client_id,
        scopes: ['openid'],
      })
    ).access_token;
    appId = (
      await createClient(s, {
        name: 'Launched App',
        launch_url: 'http://localhost:9999/launch',
        scope: 'launch openid fhirUser patient/*.rs',
      })
    ).client.client_id;
    encounterId = (await createResource(s, { resourceType: 'Encounter', status: 'finished', class: { code: 'AMB' } }))
      .id;
  });

  async function newLaunch(body: Record<string, unknown>): Promise<{ status: number; json: any }> {
    const res = await fetch(`${s.hale.url}/oauth2/launch`, {
      method: 'POST',
      headers: { authorization: `Bearer ${portalToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ client_id: appId, ...body }),
    });
    return { status: res.status, json: await res.json() };
  }

  test('the portal creates a launch; the app gets its patient and encounter, once', async () => {
    const created = await newLaunch({ encounter: encounterId, need_patient_banner: false });
    expect(created.status).toBe(201);
    const launchUrl = new URL(created.json.launch_url);
    expect(launchUrl.searchParams.get('iss')).toBe(s.base);
    const launch = launchUrl.searchParams.get('launch') as string;

    const { verifier, challenge } = pkce();
    const scope = 'launch openid fhirUser patient/*.rs';
    const { code } = await authorizeCode(s, account, { clientId: appId, scope, challenge, extra: { launch } });
    const token = await tokenRequest(s, {
      grant_type: 'authorization_code',
      code,
      redirect_uri: 'http://localhost:9999/callback',
      code_verifier: verifier,
      client_id: appId,
    });
    expect(token.body).toMatchObject({
      scope,
      patient: account.patientId,
      encounter: encounterId,
      need_patient_banner: false,
    });

    const { challenge: c2 } = pkce();
    const reuse = await fetch(
      `${s.hale.url}/oauth2/authorize?${new URLSearchParams({
        response_type: 'code',
        client_id: appId,
        redirect_uri: 'http://localhost:9999/callback',
        scope,
        state: 'x',
        aud: s.base,
        code_challenge: c2,
        code_challenge_method: 'S256',
        launch,
      })}`,
      { redirect: 'manual' }
    );
    expect(new URL(reuse.headers.get('location') as string).searchParams.get('error')).toBe('invalid_request');
  });

  test('a patient can only launch with their own record', async () => {
    const other = await createResource(s, { resourceType: 'Patient' });
    expect((await newLaunch({ patient: other.id })).status).toBe(403);
  });
});
