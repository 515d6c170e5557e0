import type { Bundle, Resource } from '@medplum/fhirtypes';
import type { DestinationStream } from 'pino';
import { issueAccessToken } from '../auth/oauth';
import { loadConfig } from '../config';
import { sql } from '../db/sql';
import { createLogger } from '../logger';
import type { RunningHale } from '../server';
import { startHale } from '../server';
import type { TestDatabase } from './test-db';
import { createTestDatabase } from './test-db';

export interface FhirResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

export interface TestServer {
  hale: RunningHale;
  /** The test database's URL (a second server may share it). */
  databaseUrl: string;
  base: string;
  /** A `system/*.cruds` access token, sent with every request unless the test passes its own authorization header. */
  systemToken: string;
  /** Issues an access token exactly as the token endpoint would, for a test client allowed every scope. */
  token(input: { scopes: string[]; accountId?: string; patient?: string; fhirUser?: string }): Promise<string>;
  request<T = any>(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>
  ): Promise<FhirResponse<T>>;
  get<T = any>(path: string, headers?: Record<string, string>): Promise<FhirResponse<T>>;
  post<T = any>(path: string, body: unknown, headers?: Record<string, string>): Promise<FhirResponse<T>>;
  put<T = any>(path: string, body: unknown, headers?: Record<string, string>): Promise<FhirResponse<T>>;
  del<T = any>(path: string, headers?: Record<string, string>): Promise<FhirResponse<T>>;
  create<T extends Resource>(resource: T): Promise<T & { id: string }>;
  search(path: string): Promise<Bundle>;
  stop(): Promise<void>;
}

/**
 * Starts a real Hale (HTTP on a random port) on a fresh database. Tests talk to it only
 * through HTTP, as any client would.
 */
export async function startTestServer(
  envOrFn: Record<string, string> | ((databaseUrl: string) => Record<string, string>) = {},
  logDestination?: DestinationStream
): Promise<TestServer> {
  const db: TestDatabase = await createTestDatabase();
  // A function gets the new database's URL: a test that puts a proxy or pooler in front of it needs it.
  const env = typeof envOrFn === 'function' ? envOrFn(db.url) : envOrFn;
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: db.url,
    DATABASE_POOL_SIZE: String(db.poolSize ?? 10),
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    NODE_ENV: 'test',
    ...env,
  });
  let hale: RunningHale;
  try {
    hale = await startHale(config, createLogger(config.logLevel, logDestination));
  } catch (err) {
    await db.drop();
    throw err;
  }
  const base = hale.fhirBaseUrl;
  await hale.db.query(sql`INSERT INTO oauth_client (client_id, name, kind, allowed_scopes, grant_types)
    VALUES (${TEST_CLIENT}, 'Hale tests', 'confidential-asymmetric', ${TEST_CLIENT_SCOPES}::text[], '{}')`);
  const token = async (input: {
    scopes: string[];
    accountId?: string;
    patient?: string;
    fhirUser?: string;
  }): Promise<string> => (await issueAccessToken(hale.authDeps, { clientId: TEST_CLIENT, ...input })).access_token;
  const systemToken = await token({ scopes: ['system/*.cruds'] });
  const request = async <T>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {}
  ): Promise<FhirResponse<T>> => {
    const url = path.startsWith('http') ? path : `${base}/${path.replace(/^\//, '')}`;
    const res = await fetch(url, {
      method,
      headers: withAuthorization({
        accept: 'application/fhir+json',
        authorization: `Bearer ${systemToken}`,
        ...(body !== undefined ? { 'content-type': 'application/fhir+json' } : {}),
        ...headers,
      }),
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown = undefined;
    if (text) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = text;
      }
    }
    return { status: res.status, headers: res.headers, body: parsed as T };
  };
  const server: TestServer = {
    hale,
    databaseUrl: db.url,
    base,
    systemToken,
    token,
    request,
    get: (path, headers) => request('GET', path, undefined, headers),
    post: (path, body, headers) => request('POST', path, body, headers),
    put: (path, body, headers) => request('PUT', path, body, headers),
    del: (path, headers) => request('DELETE', path, undefined, headers),
    async create<T extends Resource>(resource: T): Promise<T & { id: string }> {
      const res = await request<T & { id: string }>('POST', resource.resourceType, resource);
      if (res.status !== 201) {
        throw new Error(`create ${resource.resourceType} failed: ${res.status} ${JSON.stringify(res.body)}`);
      }
      return res.body;
    },
    async search(path) {
      const res = await request<Bundle>('GET', path);
      if (res.status !== 200) {
        throw new Error(`search ${path} failed: ${res.status} ${JSON.stringify(res.body)}`);
      }
      return res.body;
    },
    async stop() {
      await hale.stop();
      await db.drop();
    },
  };
  return server;
}

const TEST_CLIENT = 'hale-tests';
const TEST_CLIENT_SCOPES = [
  'system/*.cruds',
  'patient/*.cruds',
  'user/*.cruds',
  'openid',
  'fhirUser',
  'profile',
  'launch/patient',
  'offline_access',
];

/** An empty authorization header means "send none". */
function withAuthorization(headers: Record<string, string>): Record<string, string> {
  if (headers.authorization === '') {
    const { authorization: _omit, ...rest } = headers;
    return rest;
  }
  return headers;
}

/** The ids of the search.mode=match entries of a search Bundle, sorted. */
export function matchIds(bundle: Bundle): string[] {
  return (bundle.entry ?? [])
    .filter((e) => e.search?.mode === 'match')
    .map((e) => e.resource?.id as string)
    .sort();
}
