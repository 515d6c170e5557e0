import type { Resource } from '@medplum/fhirtypes';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestServer } from '../test/test-server';
import { startTestServer } from '../test/test-server';
import type { Manifest } from './manifest';

/** A test Hale whose exports go to a temporary BULK_DIR (removed by stop), with no poll interval and high export limits. */
export async function startBulkServer(env: Record<string, string> = {}): Promise<BulkServer> {
  const bulkDir = mkdtempSync(join(tmpdir(), 'hale-bulk-'));
  const s = await startTestServer({
    BULK_DIR: bulkDir,
    BULK_MIN_POLL_MS: '0',
    BULK_MAX_RUNNING: '100',
    BULK_MAX_PER_CLIENT: '100',
    BOTS_ENABLED: 'false',
    ...env,
  });
  const stop = s.stop.bind(s);
  return Object.assign(s, {
    bulkDir,
    async stop() {
      await stop();
      rmSync(bulkDir, { recursive: true, force: true });
    },
  });
}

export type BulkServer = TestServer & { bulkDir: string };

/** Runs `fn` against a bulk test server of its own, stopped afterwards whatever happens. */
export async function withBulkServer(env: Record<string, string>, fn: (s: BulkServer) => Promise<void>): Promise<void> {
  const s = await startBulkServer(env);
  try {
    await fn(s);
  } finally {
    await s.stop();
  }
}

export interface Raw {
  status: number;
  headers: Headers;
  text: string;
  json?: any;
}

/** A plain fetch, as a bulk client would make it (absolute URL or a path under the FHIR base). */
export async function call(
  s: TestServer,
  method: string,
  url: string,
  o: { token?: string; headers?: Record<string, string>; body?: unknown } = {}
): Promise<Raw> {
  const res = await fetch(url.startsWith('http') ? url : `${s.base}/${url}`, {
    method,
    headers: {
      authorization: `Bearer ${o.token ?? s.systemToken}`,
      ...(o.body !== undefined ? { 'content-type': 'application/fhir+json' } : {}),
      ...o.headers,
    },
    body: o.body === undefined ? undefined : JSON.stringify(o.body),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

export const ASYNC = { accept: 'application/fhir+json', prefer: 'respond-async' };

/** Kicks an export off; expects 202 and returns the status URL. */
export async function kickoff(
  s: TestServer,
  path: string,
  o: { token?: string; headers?: Record<string, string>; body?: unknown } = {}
): Promise<string> {
  const res = await call(s, o.body ? 'POST' : 'GET', path, { ...o, headers: { ...ASYNC, ...o.headers } });
  if (res.status !== 202) {
    throw new Error(`kick-off ${path}: ${res.status} ${res.text}`);
  }
  return res.headers.get('content-location') as string;
}

/** Polls the status URL until it answers anything but 202 (every 50 ms). */
export async function poll(s: TestServer, statusUrl: string, token?: string, timeoutMs = 30_000): Promise<Raw> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await call(s, 'GET', statusUrl, { token });
    if (res.status !== 202 || Date.now() > deadline) {
      return res;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The lines of an NDJSON file, parsed. */
export async function download(s: TestServer, url: string, token?: string): Promise<Resource[]> {
  const res = await call(s, 'GET', url, { token });
  if (res.status !== 200) {
    throw new Error(`download ${url}: ${res.status} ${res.text}`);
  }
  return res.text
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as Resource);
}

export interface Exported {
  manifest: Manifest;
  /** Output resources by type. */
  byType: Record<string, Resource[]>;
  deleted: Resource[];
  errors: Resource[];
}

/** Kick-off → poll → manifest → every file downloaded and parsed. */
export async function exportAll(
  s: TestServer,
  path: string,
  o: { token?: string; headers?: Record<string, string>; body?: unknown } = {}
): Promise<Exported> {
  const statusUrl = await kickoff(s, path, o);
  return finished(s, statusUrl, o.token);
}

/** The files of a finished export, downloaded. */
export async function finished(s: TestServer, statusUrl: string, token?: string): Promise<Exported> {
  const done = await poll(s, statusUrl, token);
  if (done.status !== 200) {
    throw new Error(`export ${statusUrl}: ${done.status} ${done.text}`);
  }
  const manifest = done.json as Manifest;
  const byType: Record<string, Resource[]> = {};
  for (const item of manifest.output) {
    (byType[item.type] ??= []).push(...(await download(s, item.url, token)));
  }
  const deleted: Resource[] = [];
  for (const item of manifest.deleted ?? []) {
    deleted.push(...(await download(s, item.url, token)));
  }
  const errors: Resource[] = [];
  for (const item of manifest.error) {
    errors.push(...(await download(s, item.url, token)));
  }
  return { manifest, byType, deleted, errors };
}

/** The ids of the exported resources of one type, sorted. */
export function idsOf(e: Exported, type: string): string[] {
  return (e.byType[type] ?? []).map((r) => r.id as string).sort();
}
