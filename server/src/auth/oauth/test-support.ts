import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { hash } from '@node-rs/argon2';
import type { Patient, Resource } from '@medplum/fhirtypes';
import { loadConfig } from '../../config';
import { sql } from '../../db/sql';
import { createLogger } from '../../logger';
import type { RunningHale } from '../../server';
import type { TestServer } from '../../test/test-server';
import { startTestServer } from '../../test/test-server';
import type { AuthDeps } from '../deps';
import { RateLimits } from '../rate-limit';
import type { AccountStatus, Role } from '../types';
import type { ClientInput, ClientRow } from './clients';
import { registerClient } from './clients';
import { issueAccessToken } from './issue';

/** Helpers for the OAuth tests: real server, real database, a browser-like HTTP session. */

export const PASSWORD = 'correct horse battery staple';

/** A Hale with rate limits high enough for a test file's worth of requests. */
export async function startOAuthServer(env: Record<string, string> = {}): Promise<TestServer> {
  return startTestServer({ AUTH_RATE_LIMIT_PER_MINUTE: '100000', ...env });
}

/** What the helpers need of a running Hale (a TestServer's `hale`, or one from startHale). */
export interface HaleTarget {
  hale: Pick<RunningHale, 'url' | 'fhirBaseUrl' | 'db'>;
}

/** AuthDeps for calling verifyAccessToken / issueAccessToken in-process against a test server's database. */
export function testDeps(s: HaleTarget, overrides: { accessTokenTtlSeconds?: number } = {}): AuthDeps {
  const config = {
    ...loadConfig({ NODE_ENV: 'test' }),
    serverUrl: s.hale.url,
    fhirBaseUrl: s.hale.fhirBaseUrl,
    ...overrides,
  };
  return {
    config,
    db: s.hale.db,
    logger: createLogger('silent'),
    redis: undefined,
    rateLimits: new RateLimits(undefined, 100000),
    systemRepository: () => {
      throw new Error('these tests do not use the system repository');
    },
  };
}

const fixtureTokens = new WeakMap<object, Promise<string>>();

/** A system/*.cruds token for writing test fixtures through the FHIR API (which requires a token). */
export function fixtureToken(s: HaleTarget): Promise<string> {
  let token = fixtureTokens.get(s.hale.db);
  if (!token) {
    token = (async () => {
      const { client } = await registerClient(s.hale.db, {
        name: 'Test fixtures',
        type: 'public',
        scope: 'system/*.cruds',
      });
      const issued = await issueAccessToken(testDeps(s), { clientId: client.client_id, scopes: ['system/*.cruds'] });
      return issued.access_token;
    })();
    fixtureTokens.set(s.hale.db, token);
  }
  return token;
}

/** Creates a resource through the FHIR API as the fixture writer. */
export async function createResource<T extends Resource>(s: HaleTarget, resource: T): Promise<T & { id: string }> {
  const res = await fetch(`${s.hale.fhirBaseUrl}/${resource.resourceType}`, {
    method: 'POST',
    headers: { 'content-type': 'application/fhir+json', authorization: `Bearer ${await fixtureToken(s)}` },
    body: JSON.stringify(resource),
  });
  const body = (await res.json()) as T & { id: string };
  if (res.status !== 201) {
    throw new Error(`create ${resource.resourceType} failed: ${res.status} ${JSON.stringify(body)}`);
  }
  return body;
}

export interface TestAccount {
  id: string;
  email: string;
  patientId?: string;
}

/** An account inserted directly (the accounts module's sign-up is tested there), optionally with its own Patient. */
export async function createAccount(
  s: HaleTarget,
  opts: {
    roles?: Role[];
    status?: AccountStatus;
    verified?: boolean;
    patient?: boolean;
    name?: string;
    phone?: string;
  } = {}
): Promise<TestAccount> {
  const id = randomUUID();
  const email = `${id.slice(0, 8)}@example.org`;
  let patientId: string | undefined;
  if (opts.patient ?? true) {
    const patient = await createResource<Patient>(s, {
      resourceType: 'Patient',
      name: [{ given: ['Aroha'], family: 'Ngata' }],
      birthDate: '1990-04-02',
    });
    patientId = patient.id;
  }
  const roles = opts.roles ?? ['patient'];
  await s.hale.db.query(
    sql`INSERT INTO account (id, email, password_hash, email_verified, status, roles, name, phone, profile_type, profile_id)
        VALUES (${id}, ${email}, ${await hash(PASSWORD)}, ${opts.verified ?? true}, ${opts.status ?? 'active'},
                ${roles}, ${opts.name ?? 'Aroha Ngata'}, ${opts.phone ?? null}, ${patientId ? 'Patient' : null},
                ${patientId ?? null})`
  );
  return { id, email, patientId };
}

export async function createClient(
  s: TestServer,
  input: Partial<ClientInput> = {}
): Promise<{ client: ClientRow; clientSecret?: string }> {
  return registerClient(s.hale.db, {
    name: 'Test App',
    type: 'public',
    redirect_uris: ['http://localhost:9999/callback'],
    scope: 'launch/patient patient/*.cruds user/*.cruds openid fhirUser profile offline_access online_access',
    ...input,
  });
}

export function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

export interface HttpResult {
  status: number;
  location: string | undefined;
  body: string;
  headers: Headers;
}

/**
 * A browser-like session: keeps the authorization server's cookie, does not follow redirects.
 * With `localAddress` (a loopback address such as 127.0.0.2) its requests come from that
 * address, as from another client: Hale counts rate limits per client address.
 */
export class Browser {
  private cookie = '';

  constructor(
    private readonly root: string,
    private readonly localAddress?: string,
    private readonly extraHeaders: Record<string, string> = {}
  ) {}

  async get(url: string): Promise<HttpResult> {
    return this.send(url, { method: 'GET' });
  }

  async post(url: string, form: Record<string, string | string[]>): Promise<HttpResult> {
    const body = new URLSearchParams();
    for (const [k, v] of Object.entries(form)) {
      for (const one of Array.isArray(v) ? v : [v]) {
        body.append(k, one);
      }
    }
    return this.send(url, {
      method: 'POST',
      body: body.toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
  }

  private async send(url: string, init: RequestInit): Promise<HttpResult> {
    const full = url.startsWith('http') ? url : `${this.root}${url}`;
    const headers = {
      ...this.extraHeaders,
      ...(init.headers as Record<string, string>),
      ...(this.cookie ? { cookie: this.cookie } : {}),
    };
    const res = this.localAddress
      ? await requestFrom(this.localAddress, full, { ...init, headers })
      : await fetch(full, { ...init, redirect: 'manual', headers });
    for (const c of res.headers.getSetCookie()) {
      const pair = c.split(';')[0] ?? '';
      this.cookie = pair.endsWith('=') ? '' : pair;
    }
    return {
      status: res.status,
      location: res.headers.get('location') ?? undefined,
      body: await res.text(),
      headers: res.headers,
    };
  }
}

/** fetch has no way to choose the local address (no undici here), so node:http does it; the answer is made a Response. */
function requestFrom(localAddress: string, url: string, init: RequestInit): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      { method: init.method, headers: init.headers as Record<string, string>, localAddress },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const headers = new Headers();
          for (const [name, value] of Object.entries(res.headers)) {
            for (const one of Array.isArray(value) ? value : value === undefined ? [] : [value]) {
              headers.append(name, one);
            }
          }
          const status = res.statusCode ?? 500;
          const body = status === 204 || status === 304 ? null : Buffer.concat(chunks);
          resolve(new Response(body, { status, headers }));
        });
        res.on('error', reject);
      }
    );
    req.on('error', reject);
    req.end(typeof init.body === 'string' ? init.body : undefined);
  });
}

/** The value of a hidden input on a page. */
export function field(html: string, name: string): string {
  const m = new RegExp(`name="${name}" value="([^"]*)"`).exec(html);
  if (!m?.[1]) {
    throw new Error(`no field ${name} on the page:\n${html}`);
  }
  return m[1].replace(/&#(\d+);/g, (_s, n: string) => String.fromCharCode(Number(n)));
}

export interface AuthorizeOptions {
  clientId: string;
  redirectUri?: string;
  scope: string;
  challenge: string;
  state?: string;
  aud?: string;
  extra?: Record<string, string>;
}

export function authorizeUrl(s: TestServer, o: AuthorizeOptions): string {
  const q = new URLSearchParams({
    response_type: 'code',
    client_id: o.clientId,
    redirect_uri: o.redirectUri ?? 'http://localhost:9999/callback',
    scope: o.scope,
    state: o.state ?? 'state-123',
    aud: o.aud ?? s.base,
    code_challenge: o.challenge,
    code_challenge_method: 'S256',
    ...o.extra,
  });
  return `${s.hale.url}/oauth2/authorize?${q}`;
}

/** Signs in on the login page; returns the response (a 303 to the next step on success). */
export async function signIn(
  browser: Browser,
  loginPage: string,
  email: string,
  password = PASSWORD
): Promise<HttpResult> {
  return browser.post('/oauth2/login', {
    flow: field(loginPage, 'flow'),
    csrf: field(loginPage, 'csrf'),
    email,
    password,
  });
}

/**
 * The whole interactive flow over HTTP: authorize, sign in, approve every scope (or the
 * given ones); returns the code from the redirect back to the app.
 */
export async function authorizeCode(
  s: TestServer,
  account: TestAccount,
  o: AuthorizeOptions,
  approve?: string[]
): Promise<{ code: string; browser: Browser }> {
  const browser = new Browser(s.hale.url);
  const login = await browser.get(authorizeUrl(s, o));
  expect(login.status).toBe(200);
  const signedIn = await signIn(browser, login.body, account.email);
  expect(signedIn.status).toBe(303);
  let next = await browser.get(signedIn.location as string);
  if (next.status === 200) {
    const scopes = approve ?? [...next.body.matchAll(/name="scope" value="([^"]*)"/g)].map((m) => field(m[0], 'scope'));
    next = await browser.post('/oauth2/authorize/decision', {
      flow: field(next.body, 'flow'),
      csrf: field(next.body, 'csrf'),
      decision: 'approve',
      scope: scopes,
    });
  }
  const location = new URL(next.location as string);
  const code = location.searchParams.get('code');
  if (!code) {
    throw new Error(`no code in ${location.toString()}`);
  }
  return { code, browser };
}

/** POSTs a form to the token (or revoke/introspect) endpoint. */
export async function tokenRequest(
  s: TestServer,
  form: Record<string, string>,
  path = '/oauth2/token',
  headers: Record<string, string> = {}
): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(`${s.hale.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form).toString(),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
}
