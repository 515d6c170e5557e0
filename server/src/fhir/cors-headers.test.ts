import type { Patient } from '@medplum/fhirtypes';
import { ConfigError, loadConfig } from '../config';
import type { TestServer } from '../test/test-server';
import { startTestServer } from '../test/test-server';

const PORTAL = 'https://portal.example.org';
const APP = 'https://app.example';

let s: TestServer;
let patient: Patient & { id: string };

beforeAll(async () => {
  s = await startTestServer({ CORS_ORIGINS: `${PORTAL}, https://admin.example.org/` });
  patient = await s.create<Patient>({ resourceType: 'Patient', name: [{ family: 'Ngata' }] });
});
afterAll(async () => {
  await s.stop();
});

/** A request from a page on `origin` (a preflight when method is OPTIONS), with the system token. */
async function from(origin: string, method: string, path: string, headers: Record<string, string> = {}) {
  return s.request(method, path.startsWith('/') ? `${s.hale.url}${path}` : path, undefined, { origin, ...headers });
}

function cors(res: { headers: Headers }): Record<string, string | null> {
  const h = res.headers;
  return {
    origin: h.get('access-control-allow-origin'),
    credentials: h.get('access-control-allow-credentials'),
  };
}

describe('CORS', () => {
  test('the FHIR API answers any origin with *, never with credentials', async () => {
    const res = await from(APP, 'GET', `Patient/${patient.id}`);
    expect(res.status).toBe(200);
    expect(cors(res)).toEqual({ origin: '*', credentials: null });
    expect(res.headers.get('vary')).toMatch(/Origin/);
    expect(res.headers.get('access-control-expose-headers')).toContain('ETag');
    const preflight = await from(APP, 'OPTIONS', 'Patient', {
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization, content-type',
    });
    expect(preflight.status).toBe(204);
    expect(cors(preflight)).toEqual({ origin: '*', credentials: null });
    expect(preflight.headers.get('access-control-allow-headers')).toContain('Authorization');
    expect(preflight.headers.get('access-control-allow-methods')).toContain('POST');
  });

  test('a configured origin gets itself back, with credentials', async () => {
    const res = await from(PORTAL, 'GET', `Patient/${patient.id}`);
    expect(cors(res)).toEqual({ origin: PORTAL, credentials: 'true' });
    expect(res.headers.get('vary')).toMatch(/Origin/);
    // The trailing slash in the configuration is forgiven.
    expect(cors(await from('https://admin.example.org', 'GET', 'metadata'))).toEqual({
      origin: 'https://admin.example.org',
      credentials: 'true',
    });
  });

  test.each([
    ['/fhir/R4/metadata', 'GET'],
    ['/fhir/R4/.well-known/smart-configuration', 'GET'],
    ['/.well-known/openid-configuration', 'GET'],
    ['/oauth2/jwks', 'GET'],
    ['/oauth2/token', 'POST'],
    ['/oauth2/introspect', 'POST'],
    ['/oauth2/revoke', 'POST'],
  ])('%s is open to any origin without credentials', async (path, method) => {
    expect(cors(await from(APP, method, path))).toEqual({ origin: '*', credentials: null });
    expect(cors(await from(APP, 'OPTIONS', path, { 'access-control-request-method': method }))).toEqual({
      origin: '*',
      credentials: null,
    });
    expect(cors(await from(PORTAL, method, path))).toEqual({ origin: PORTAL, credentials: 'true' });
  });

  test.each([
    ['/auth/forgot-password', 'POST'],
    ['/auth/me/application', 'GET'],
    ['/oauth2/approvals', 'GET'],
    ['/oauth2/launch', 'POST'],
    ['/oauth2/clients', 'GET'],
  ])('%s answers CORS to the configured origins only', async (path, method) => {
    expect(cors(await from(APP, method, path))).toEqual({ origin: null, credentials: null });
    const preflight = await from(APP, 'OPTIONS', path, { 'access-control-request-method': method });
    expect(preflight.status).toBe(204);
    expect(cors(preflight)).toEqual({ origin: null, credentials: null });
    expect(preflight.headers.get('access-control-allow-methods')).toBeNull();
    expect(cors(await from(PORTAL, method, path))).toEqual({ origin: PORTAL, credentials: 'true' });
    expect(cors(await from(PORTAL, 'OPTIONS', path, { 'access-control-request-method': method }))).toEqual({
      origin: PORTAL,
      credentials: 'true',
    });
  });

  test.each(['/oauth2/authorize', '/oauth2/login', '/oauth2/logout', '/healthcheck'])(
    '%s answers no CORS to any origin (top-level pages with the session cookie, and operations)',
    async (path) => {
      for (const origin of [APP, PORTAL]) {
        expect(cors(await from(origin, path === '/healthcheck' ? 'GET' : 'POST', path))).toEqual({
          origin: null,
          credentials: null,
        });
        expect(cors(await from(origin, 'OPTIONS', path, { 'access-control-request-method': 'POST' }))).toEqual({
          origin: null,
          credentials: null,
        });
      }
    }
  );

  test('by default only the server’s own origin (BASE_URL) is trusted with credentials', () => {
    expect(loadConfig({ BASE_URL: 'https://hale.example.org/' }).corsOrigins).toBeUndefined();
    expect(() => loadConfig({ CORS_ORIGINS: 'https://portal.example.org/app' })).toThrow(ConfigError);
    expect(() => loadConfig({ CORS_ORIGINS: '*' })).toThrow(ConfigError);
    expect(loadConfig({ CORS_ORIGINS: 'https://a.example, http://localhost:3000' }).corsOrigins).toEqual([
      'https://a.example',
      'http://localhost:3000',
    ]);
  });
});

describe('response headers', () => {
  test('FHIR answers with health data are never cached or sniffed', async () => {
    for (const res of [
      await s.get(`Patient/${patient.id}`),
      await s.get('Patient?family=Ngata'),
      await s.get('Patient/unknown'),
      await s.get(`Patient/${patient.id}`, { authorization: '' }),
    ]) {
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('x-frame-options')).toBe('DENY');
    }
  });

  test('account answers and token answers are not cached; public documents are, briefly', async () => {
    const me = await s.request('GET', `${s.hale.url}/auth/me/application`);
    expect(me.headers.get('cache-control')).toBe('no-store');
    const token = await s.request('POST', `${s.hale.url}/oauth2/token`, 'grant_type=password', {
      'content-type': 'application/x-www-form-urlencoded',
    });
    expect(token.headers.get('cache-control')).toBe('no-store');
    for (const path of ['/fhir/R4/metadata', '/fhir/R4/.well-known/smart-configuration', '/oauth2/jwks']) {
      const res = await s.request('GET', `${s.hale.url}${path}`);
      expect(res.headers.get('cache-control')).toMatch(/^public, max-age=\d+$/);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    }
  });

  test('the sign-in pages may not be framed', async () => {
    const res = await fetch(`${s.hale.url}/oauth2/authorize?client_id=nobody`);
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  });
});

describe('CORS without CORS_ORIGINS', () => {
  let plain: TestServer;
  beforeAll(async () => {
    plain = await startTestServer();
  });
  afterAll(async () => {
    await plain.stop();
  });

  test('trusts the server’s own origin (where the portal is served) and no other', async () => {
    const own = new URL(plain.hale.url).origin;
    const res = await plain.request('GET', `${plain.hale.url}/auth/me/application`, undefined, { origin: own });
    expect(cors(res)).toEqual({ origin: own, credentials: 'true' });
    const other = await plain.request('GET', `${plain.hale.url}/auth/me/application`, undefined, { origin: PORTAL });
    expect(cors(other)).toEqual({ origin: null, credentials: null });
    expect(cors(await plain.get('metadata', { origin: PORTAL }))).toEqual({ origin: '*', credentials: null });
  });
});
