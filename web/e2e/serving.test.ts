import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { TestServer } from '../../server/src/test/test-server';
import { startTestServer } from '../../server/src/test/test-server';

/* How Hale serves the built portal (server/src/portal/static-files.ts): caching, compression, the SPA fallback. */

const dist = join(__dirname, '..', 'dist');
const built = existsSync(join(dist, 'index.html'));
if (!built) {
  console.warn('\n*** SKIPPING the portal serving tests: web/dist is not built (npm run build:web) ***\n');
}

(built ? describe : describe.skip)('Hale serves the web portal at /', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(async () => {
    await s?.stop();
  });

  const get = (path: string, headers: Record<string, string> = {}) =>
    fetch(`${s.hale.url}${path}`, { headers: { accept: 'text/html', ...headers } });

  test('index.html is revalidated on every load and carries the portal CSP', async () => {
    const res = await get('/');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('no-cache');
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    const etag = res.headers.get('etag') as string;
    expect((await get('/', { 'if-none-match': etag })).status).toBe(304);
  });

  test('hashed assets are immutable for a year and sent brotli- or gzip-compressed as the client accepts', async () => {
    const script = readdirSync(join(dist, 'assets')).find((f) => f.endsWith('.js')) as string;
    const br = await get(`/assets/${script}`, { 'accept-encoding': 'gzip, deflate, br' });
    expect(br.status).toBe(200);
    expect(br.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(br.headers.get('content-encoding')).toBe('br');
    expect(br.headers.get('vary')).toContain('Accept-Encoding');
    expect(br.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    const gzip = await get(`/assets/${script}`, { 'accept-encoding': 'gzip' });
    expect(gzip.headers.get('content-encoding')).toBe('gzip');
    const plain = await get(`/assets/${script}`, { 'accept-encoding': 'identity' });
    expect(plain.headers.get('content-encoding')).toBeNull();
    expect((await plain.text()).length).toBeGreaterThan(Number(br.headers.get('content-length')));
  });

  test('a screen path gets index.html; a missing asset and the API prefixes keep their own 404', async () => {
    const screen = await get('/patients/123');
    expect(screen.status).toBe(200);
    expect(await screen.text()).toContain('<div id="root">');
    expect((await get('/assets/missing-0000.js')).status).toBe(404);
    // A path that is no screen keeps the API's 404 OperationOutcome.
    const nowhere = await get('/nothing-here');
    expect(nowhere.status).toBe(404);
    expect(((await nowhere.json()) as { resourceType?: string }).resourceType).toBe('OperationOutcome');
    for (const path of ['/fhir/R4/NoSuchType', '/oauth2/nowhere', '/.well-known/nothing', '/auth/nothing']) {
      const res = await get(path);
      expect([401, 404]).toContain(res.status);
      expect(res.headers.get('content-type')).not.toContain('text/html');
    }
  });

  test('the portal is a registered public client whose sign-in returns to /signin on Hale', async () => {
    const res = await get(
      `/oauth2/authorize?${new URLSearchParams({
        response_type: 'code',
        client_id: 'hale-portal',
        redirect_uri: `${s.hale.url}/signin`,
        scope: 'openid fhirUser profile online_access user/*.cruds',
        state: 'x',
        aud: s.base,
        code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
        code_challenge_method: 'S256',
      }).toString()}`
    );
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('With your password');
    const elsewhere = await get(
      `/oauth2/authorize?response_type=code&client_id=hale-portal&redirect_uri=${encodeURIComponent('https://evil.example/signin')}`
    );
    expect(elsewhere.status).toBe(400);
  });
});
