import type { AuditEvent, OperationOutcome, Patient } from '@medplum/fhirtypes';
import { sql } from '../../db/sql';
import type { TestServer } from '../../test/test-server';
import { call, poll, withBulkServer } from '../test-support';
import type { Raw } from '../test-support';
import { ImportLost, runImport } from './run-import';

/** $import's jobs: the limit on active imports, DELETE on the status URL, and the AuditEvent of each. */
const patient = (id: string): Patient => ({ resourceType: 'Patient', id, name: [{ family: 'Imported' }] });
const ndjson = (ids: readonly string[]): string => ids.map((id) => JSON.stringify(patient(id))).join('\n') + '\n';

async function postNdjson(s: TestServer, body: string): Promise<Raw> {
  const res = await fetch(`${s.base}/$import`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${s.systemToken}`,
      'content-type': 'application/fhir+ndjson',
      prefer: 'respond-async',
    },
    body,
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: text ? (JSON.parse(text) as unknown) : undefined };
}

async function kick(s: TestServer, ids: readonly string[]): Promise<string> {
  const res = await postNdjson(s, ndjson(ids));
  expect(res.status).toBe(202);
  return res.headers.get('content-location') as string;
}

const readable = async (s: TestServer, id: string): Promise<number> => (await call(s, 'GET', `Patient/${id}`)).status;

async function importEvents(s: TestServer, statusUrl: string): Promise<AuditEvent[]> {
  const id = statusUrl.split('/').pop() as string;
  const rows = await s.hale.db.query<{ content: string }>(
    sql`SELECT content FROM resource WHERE type = 'AuditEvent' AND NOT deleted AND content LIKE ${`%${id}%`}`
  );
  return rows.map((r) => JSON.parse(r.content) as AuditEvent);
}
const step = (ev: AuditEvent) => ev.subtype?.find((c) => c.system?.endsWith('/bulk-audit'))?.code;
const detail = (ev: AuditEvent, type: string) =>
  ev.entity?.flatMap((en) => en.detail ?? []).find((d) => d.type === type)?.valueString;

test('too many imports at once: 429 with Retry-After, per client and user', async () => {
  await withBulkServer({ BULK_WORKERS: '0', BULK_MAX_PER_CLIENT: '1' }, async (s) => {
    const first = await kick(s, ['imp-l1']);
    const again = await postNdjson(s, ndjson(['imp-l2']));
    expect(again.status).toBe(429);
    expect(Number(again.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((again.json as OperationOutcome).issue[0]?.code).toBe('throttled');
    // Once the first has run, the client may start another.
    await s.hale.bulk.imports.runNext();
    expect((await poll(s, first)).status).toBe(200);
    await kick(s, ['imp-l2']);
  });
});

test('DELETE of a queued import: 202, then 404, and nothing of it is imported', async () => {
  await withBulkServer({ BULK_WORKERS: '0' }, async (s) => {
    const statusUrl = await kick(s, ['imp-c1', 'imp-c2']);
    const res = await call(s, 'DELETE', statusUrl);
    expect(res.status).toBe(202);
    expect((res.json as OperationOutcome).issue[0]?.severity).toBe('information');
    expect((await call(s, 'GET', statusUrl)).status).toBe(404);
    expect((await call(s, 'DELETE', statusUrl)).status).toBe(404);
    expect(await s.hale.bulk.imports.runNext()).toBeUndefined();
    expect(await readable(s, 'imp-c1')).toBe(404);
    const [cancelled] = (await importEvents(s, statusUrl)).filter((ev) => step(ev) === 'import-cancelled');
    expect(cancelled && detail(cancelled, 'resource-count')).toBe('0');
  });
});

test('DELETE of a running import rolls its file in progress back; a finished one keeps what it imported', async () => {
  await withBulkServer({ BULK_WORKERS: '0' }, async (s) => {
    const imports = s.hale.bulk.imports;
    // 600 lines: the worker's heartbeat after line 500 is where a cancelled import notices.
    const ids = Array.from({ length: 600 }, (_v, i) => `imp-r${i}`);
    const running = await kick(s, ids);
    const job = await imports.store.claim(); // as a worker would: the import is running now
    expect(job?.id).toBe(running.split('/').pop());
    // The DELETE arrives while the file is being written (after its first 500 lines).
    const store = Object.create(imports.store) as typeof imports.store;
    store.heartbeat = async (j, progress) => {
      if (progress.endsWith(': 500 resources')) {
        expect((await call(s, 'DELETE', running)).status).toBe(202);
      }
      return imports.store.heartbeat(j, progress);
    };
    await expect(
      runImport(job as NonNullable<typeof job>, { ...imports.deps, store }, new AbortController().signal)
    ).rejects.toBeInstanceOf(ImportLost);
    expect((await call(s, 'GET', running)).status).toBe(404);
    expect(await readable(s, 'imp-r0')).toBe(404);
    expect(await readable(s, 'imp-r499')).toBe(404);

    const finished = await kick(s, ['imp-f1']);
    await imports.runNext();
    expect((await poll(s, finished)).status).toBe(200);
    expect((await call(s, 'DELETE', finished)).status).toBe(202);
    expect((await call(s, 'GET', finished)).status).toBe(404);
    expect(await readable(s, 'imp-f1')).toBe(200);
  });
});

test('a finished import is audited once, with its counts and no resource listed', async () => {
  await withBulkServer({ BULK_WORKERS: '0' }, async (s) => {
    const statusUrl = await kick(s, ['imp-a1', 'imp-a2', 'imp-a3']);
    await s.hale.bulk.imports.runNext();
    expect((await poll(s, statusUrl)).status).toBe(200);
    const completed = (await importEvents(s, statusUrl)).filter((ev) => step(ev) === 'import-completed');
    expect(completed).toHaveLength(1);
    const event = completed[0] as AuditEvent;
    expect(detail(event, 'resource-count')).toBe('3');
    expect(detail(event, 'count:Patient')).toBe('3');
    expect(detail(event, 'files-imported')).toBe('1');
    expect(detail(event, 'files-failed')).toBe('0');
    expect(event.entity?.some((en) => en.what?.reference?.startsWith('Patient/'))).toBe(false);
  });
});
