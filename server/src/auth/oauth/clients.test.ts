import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { loadConfig } from '../../config';
import { createLogger } from '../../logger';
import type { RunningHale } from '../../server';
import { startHale } from '../../server';
import { createTestDatabase } from '../../test/test-db';
import type { TestDatabase } from '../../test/test-db';
import { sql } from '../../db/sql';
import { sharingConsent } from '../../test/consent-fixtures';
import type { TestServer } from '../../test/test-server';
import { issueAccessToken } from './issue';
import {
  Browser,
  authorizeUrl,
  createAccount,
  createClient,
  createResource,
  pkce,
  startOAuthServer,
  testDeps,
  tokenRequest,
} from './test-support';

let s: TestServer;
let adminToken: string;
let patientToken: string;

beforeAll(async () => {
  s = await startOAuthServer();
  const tool = (await createClient(s, { name: 'Admin console', scope: 'openid user/*.rs' })).client.client_id;
  const admin = await createAccount(s, { roles: ['admin'], patient: false });
  adminToken = (await issueAccessToken(testDeps(s), { accountId: admin.id, clientId: tool, scopes: ['openid'] }))
    .access_token;
  const patient = await createAccount(s);
  patientToken = (await issueAccessToken(testDeps(s), { accountId: patient.id, clientId: tool, scopes: ['openid'] }))
    .access_token;
});
afterAll(async () => {
  await s.stop();
});

const api = async (
  method: string,
  path: string,
  token: string | undefined,
  body?: unknown
): Promise<{ status: number; json: any }> => {
  const res = await fetch(`${s.hale.url}/oauth2/clients${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body ? { 'content-type': 'application/json' } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
};

describe('client registration API', () => {
  test('an admin registers, lists, reads and deletes a client; the secret is shown once', async () => {
    const created = await api('POST', '', adminToken, {
      client_name: 'Clinic Dashboard',
      client_type: 'confidential-symmetric',
      redirect_uris: ['https://dashboard.example.org/callback'],
      scope: 'launch/patient patient/*.rs openid fhirUser',
      launch_url: 'https://dashboard.example.org/launch',
    });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({
      client_name: 'Clinic Dashboard',
      type: 'confidential-symmetric',
      grant_types: ['authorization_code', 'refresh_token'],
    });
    expect(created.json.client_secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const id = created.json.client_id as string;

    const one = await api('GET', `/${id}`, adminToken);
    expect(one.status).toBe(200);
    expect(one.json.client_secret).toBeUndefined();
    expect(JSON.stringify(one.json)).not.toContain(created.json.client_secret);
    expect((await api('GET', '', adminToken)).json.map((c: any) => c.client_id)).toContain(id);

    expect((await api('DELETE', `/${id}`, adminToken)).status).toBe(204);
    expect((await api('GET', `/${id}`, adminToken)).status).toBe(404);
    expect((await api('DELETE', `/${id}`, adminToken)).status).toBe(404);
    // A deleted client can no longer authenticate.
    const res = await tokenRequest(s, {
      grant_type: 'refresh_token',
      refresh_token: 'x',
      client_id: id,
      client_secret: created.json.client_secret,
    });
    expect(res.status).toBe(401);
  });

  test('registration is validated', async () => {
    const base = {
      client_name: 'X',
      client_type: 'public',
      redirect_uris: ['https://x.example.org/cb'],
      scope: 'patient/*.rs',
    };
    const bad = [
      { ...base, scope: 'patient/*.rs made-up-scope' },
      { ...base, redirect_uris: ['http://x.example.org/cb'] },
      { ...base, redirect_uris: ['https://x.example.org/cb#frag'] },
      { ...base, client_type: 'confidential-asymmetric' },
      {
        ...base,
        client_type: 'confidential-asymmetric',
        jwks: { keys: [{ kty: 'RSA', n: 'x', e: 'AQAB', d: 'secret' }] },
      },
      { ...base, client_type: 'sideways' },
    ];
    for (const body of bad) {
      const res = await api('POST', '', adminToken, body);
      expect(res.status).toBe(400);
      expect(res.json.resourceType).toBe('OperationOutcome');
    }
  });

  test('only admins may use it', async () => {
    expect((await api('GET', '', undefined)).status).toBe(401);
    expect((await api('GET', '', 'not-a-token')).status).toBe(401);
    expect((await api('GET', '', patientToken)).status).toBe(403);
  });
});

// The CLI runs as a second process with its own database connection; the embedded test database
// (no TEST_DATABASE_URL) is a single PGlite session, so these need a PostgreSQL server, as CI has.
const describeWithServerDatabase = process.env.TEST_DATABASE_URL ? describe : describe.skip;

describeWithServerDatabase('CLI', () => {
  let db: TestDatabase;
  let hale: RunningHale;

  beforeAll(async () => {
    db = await createTestDatabase();
    hale = await startHale(
      loadConfig({
        PORT: '0',
        DATABASE_URL: db.url,
        NODE_ENV: 'test',
        LOG_LEVEL: 'silent',
        AUTH_RATE_LIMIT_PER_MINUTE: '100000',
      }),
      createLogger('silent')
    );
  });
  afterAll(async () => {
    await hale.stop();
    await db.drop();
  });

  // Asynchronous: the server under test runs in this process and must keep serving meanwhile.
  const cli = async (...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> => {
    const child = spawn('npx', ['tsx', join(__dirname, '../../cli.ts'), ...args], {
      env: { ...process.env, DATABASE_URL: db.url, BASE_URL: hale.url, LOG_LEVEL: 'silent' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
    return { status, stdout, stderr };
  };

  test('client create registers an app and prints its id and secret once', async () => {
    const out = await cli(
      'client',
      'create',
      '--name',
      'CLI App',
      '--type',
      'confidential-symmetric',
      '--redirect-uri',
      'https://cli.example.org/a',
      '--redirect-uri',
      'https://cli.example.org/b',
      '--scope',
      'patient/*.rs openid'
    );
    expect(out.stderr.replace(/npm warn.*\n/g, '')).toBe('');
    expect(out.status).toBe(0);
    const { client_id, client_secret } = JSON.parse(out.stdout) as { client_id: string; client_secret: string };
    expect(client_secret).toBeTruthy();
    // The registration works at the token endpoint (client_secret_post).
    const res = await fetch(`${hale.url}/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: 'unknown',
        client_id,
        client_secret,
      }).toString(),
    });
    expect(((await res.json()) as { error: string }).error).toBe('invalid_grant'); // authenticated, then no such token
    const bad = await cli(
      'client',
      'create',
      '--name',
      'X',
      '--type',
      'public',
      '--scope',
      'patient/*.rs',
      '--redirect-uri',
      'http://evil.example.org'
    );
    expect(bad.status).toBe(2);
  });

  test('token issues an access token for a user as the token endpoint would', async () => {
    const account = await createAccount({ hale });
    const out = await cli('token', '--user', account.email, '--scope', 'patient/*.rs openid unknown/scope');
    expect(out.status).toBe(0);
    const token = JSON.parse(out.stdout) as { access_token: string; scope: string; token_type: string };
    expect(token).toMatchObject({ scope: 'patient/*.rs openid', token_type: 'Bearer' });
    const introspection = await fetch(`${hale.url}/oauth2/introspect`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token.access_token}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: token.access_token }).toString(),
    });
    expect(await introspection.json()).toMatchObject({
      active: true,
      sub: account.id,
      client_id: 'hale-cli',
      patient: account.patientId,
    });
    // The built-in client cannot be used for an interactive flow.
    const page = await new Browser(hale.url).get(
      authorizeUrl({ hale, base: hale.fhirBaseUrl } as unknown as TestServer, {
        clientId: 'hale-cli',
        scope: 'openid',
        challenge: pkce().challenge,
      })
    );
    expect(page.status).toBe(400);
    expect((await cli('token', '--user', 'nobody@example.org', '--scope', 'openid')).status).toBe(2);
  });

  test('token refuses a patient context the user could not open at the authorize endpoint, unless --force', async () => {
    const alice = await createAccount({ hale });
    const bob = await createAccount({ hale });
    const patientOf = async (out: { stdout: string }): Promise<unknown> => {
      const { access_token } = JSON.parse(out.stdout) as { access_token: string };
      const res = await fetch(`${hale.url}/oauth2/introspect`, {
        method: 'POST',
        headers: { authorization: `Bearer ${access_token}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token: access_token }).toString(),
      });
      return ((await res.json()) as { patient?: string }).patient;
    };
    const asBob = ['token', '--user', bob.email, '--scope', 'patient/*.rs', '--patient'];

    const refused = await cli(...asBob, alice.patientId as string);
    expect(refused.status).toBe(2);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toContain(`${bob.email} may not open Patient/${alice.patientId}`);
    expect(refused.stderr).toContain('--force');

    const own = await cli(...asBob, bob.patientId as string);
    expect(own.status).toBe(0);
    expect(own.stderr).not.toContain('WARNING');
    expect(await patientOf(own)).toBe(bob.patientId);

    const forced = await cli(...asBob, alice.patientId as string, '--force');
    expect(forced.status).toBe(0);
    expect(forced.stderr).toContain(`WARNING: --force: ${bob.email} may not open Patient/${alice.patientId}`);
    expect(await patientOf(forced)).toBe(alice.patientId);

    // A provider may have the context of a patient who shares with them, as the authorize endpoint's picker allows.
    const practitioner = await createResource({ hale }, { resourceType: 'Practitioner', name: [{ family: 'Hale' }] });
    const provider = await createAccount({ hale }, { patient: false, roles: ['provider'] });
    await hale.db.query(
      sql`UPDATE account SET profile_type = 'Practitioner', profile_id = ${practitioner.id} WHERE id = ${provider.id}`
    );
    const asProvider = ['token', '--user', provider.email, '--scope', 'patient/*.rs', '--patient'];
    expect((await cli(...asProvider, alice.patientId as string)).status).toBe(2);
    await createResource(
      { hale },
      sharingConsent({
        patient: alice.patientId as string,
        actor: { reference: `Practitioner/${practitioner.id}` },
        categories: ['all'],
      })
    );
    const shared = await cli(...asProvider, alice.patientId as string);
    expect(shared.status).toBe(0);
    expect(await patientOf(shared)).toBe(alice.patientId);
  });
});
