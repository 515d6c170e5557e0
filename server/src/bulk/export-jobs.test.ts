import type { AuditEvent, OperationOutcome } from '@medplum/fhirtypes';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { loadConfig } from '../config';
import { sql } from '../db/sql';
import { createLogger } from '../logger';
import { startHale } from '../server';
import { account, observation, userToken } from '../test/consent-fixtures';
import type { Manifest } from './manifest';
import { freePort } from '../test/ports';
import {
  ASYNC,
  call,
  exportAll,
  finished,
  idsOf,
  kickoff,
  poll,
  startBulkServer,
  withBulkServer,
} from './test-support';

/** The job side: limits, restarts, the snapshot, expiry and the audit trail. */
test('too many exports at once: 429 with Retry-After, per client and user and for the whole server', async () => {
  await withBulkServer({ BULK_WORKERS: '0', BULK_MAX_PER_CLIENT: '1', BULK_MAX_RUNNING: '2' }, async (s) => {
    await kickoff(s, '$export?_type=Patient');
    const again = await call(s, 'GET', '$export?_type=Patient', { headers: ASYNC });
    expect(again.status).toBe(429);
    expect(Number(again.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((again.json as OperationOutcome).issue[0]?.code).toBe('throttled');
    const user = async () => userToken(s, await account(s, ['developer']), ['user/*.rs']);
    await kickoff(s, '$export?_type=Patient', { token: await user() });
    expect((await call(s, 'GET', '$export', { token: await user(), headers: ASYNC })).status).toBe(429);
  });
});

test('polling faster than BULK_MIN_POLL_MS: 429 with Retry-After and a transient issue code', async () => {
  await withBulkServer({ BULK_MIN_POLL_MS: '60000', BULK_WORKERS: '0' }, async (s) => {
    const statusUrl = await kickoff(s, '$export?_type=Patient');
    expect((await call(s, 'GET', statusUrl)).status).toBe(202);
    const fast = await call(s, 'GET', statusUrl);
    expect(fast.status).toBe(429);
    expect(fast.headers.get('retry-after')).toBe('2');
    expect((fast.json as OperationOutcome).issue[0]?.code).toBe('throttled');
  });
});

test('one snapshot: what changes after the transactionTime is exported as it was then', async () => {
  await withBulkServer({ BULK_WORKERS: '0' }, async (s) => {
    const p = (await s.create({ resourceType: 'Patient' })).id;
    const changed = await s.create(observation(p, 'laboratory', '2026-01-01'));
    const deleted = await s.create(observation(p, 'laboratory', '2026-01-02'));
    const statusUrl = await kickoff(s, '$export?_type=Observation');
    await s.put(`Observation/${changed.id}`, { ...changed, status: 'amended' });
    await s.del(`Observation/${deleted.id}`);
    const added = await s.create(observation(p, 'laboratory', '2026-01-03'));
    await s.hale.bulk.runNext();
    const e = await finished(s, statusUrl);
    expect(idsOf(e, 'Observation')).toEqual([changed.id, deleted.id].sort());
    expect(idsOf(e, 'Observation')).not.toContain(added.id);
    expect((e.byType.Observation ?? []).find((o) => o.id === changed.id)).toMatchObject({ status: 'final' });
    expect(Date.parse(e.manifest.transactionTime)).toBeLessThan(Date.parse(added.meta?.lastUpdated as string));
  });
});

test('an export whose worker died (lease expired) starts over; the half-written file is never listed', async () => {
  await withBulkServer({ BULK_WORKERS: '0' }, async (s) => {
    const p = (await s.create({ resourceType: 'Patient' })).id;
    await s.create(observation(p, 'laboratory', '2026-01-01'));
    const statusUrl = await kickoff(s, '$export?_type=Patient,Observation');
    const id = statusUrl.split('/').pop() as string;
    // What a killed worker leaves: a running row with a lapsed lease and a .part file of attempt 1.
    await s.hale.db.query(sql`UPDATE bulk_export SET state = 'running', attempts = 1,
      locked_until = now() - interval '1 second' WHERE id = ${id}::uuid`);
    mkdirSync(join(s.bulkDir, id, 'a1'), { recursive: true });
    writeFileSync(join(s.bulkDir, id, 'a1', 'Patient-1.ndjson.part'), '{"resourceType":"Pat');
    expect((await call(s, 'GET', statusUrl)).status).toBe(202);
    expect(await s.hale.bulk.runNext()).toBe(id);
    const e = await finished(s, statusUrl);
    expect(idsOf(e, 'Patient')).toEqual([p]);
    expect(idsOf(e, 'Observation')).toHaveLength(1);
    expect(readdirSync(join(s.bulkDir, id))).toEqual(['a2']);
    expect(readdirSync(join(s.bulkDir, id, 'a2')).some((f) => f.endsWith('.part'))).toBe(false);
  });
});

test('an export interrupted too many times fails cleanly: 500 with an OperationOutcome, no files', async () => {
  await withBulkServer({ BULK_WORKERS: '0' }, async (s) => {
    const statusUrl = await kickoff(s, '$export?_type=Patient');
    const id = statusUrl.split('/').pop() as string;
    await s.hale.db.query(sql`UPDATE bulk_export SET state = 'running', attempts = 3,
      locked_until = now() - interval '1 second' WHERE id = ${id}::uuid`);
    await s.hale.bulk.runNext();
    const res = await call(s, 'GET', statusUrl);
    expect(res.status).toBe(500);
    expect(res.headers.get('content-type')).toMatch(/^application\/fhir\+json/);
    expect((res.json as OperationOutcome).issue[0]?.details?.text).toMatch(/interrupted/);
  });
});

test('a server stopped mid-export hands it back; the next server start finishes it', async () => {
  const port = await freePort();
  const s = await startBulkServer({ PORT: String(port), BULK_PAGE_SIZE: '1' });
  try {
    const entry = Array.from({ length: 300 }, (_, i) => ({
      resource: { resourceType: 'Patient', name: [{ family: `P${i}` }] },
      request: { method: 'POST', url: 'Patient' },
    }));
    expect((await s.post('', { resourceType: 'Bundle', type: 'transaction', entry })).status).toBe(200);
    const statusUrl = await kickoff(s, '$export?_type=Patient');
    const id = statusUrl.split('/').pop() as string;
    for (let i = 0; i < 100; i++) {
      const [row] = await s.hale.db.query<{ progress: string | null }>(
        sql`SELECT progress FROM bulk_export WHERE id = ${id}::uuid`
      );
      if (row?.progress) {
        break;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    await s.hale.stop();
    const client = new pg.Client({ connectionString: s.databaseUrl });
    await client.connect();
    const handedBack = await client.query('SELECT state, attempts FROM bulk_export WHERE id = $1', [id]);
    await client.end();
    expect(handedBack.rows[0]).toEqual({ state: 'pending', attempts: 0 });
    const again = await startHale(
      loadConfig({
        PORT: String(port),
        HOST: '127.0.0.1',
        DATABASE_URL: s.databaseUrl,
        NODE_ENV: 'test',
        LOG_LEVEL: 'silent',
        BOTS_ENABLED: 'false',
        BULK_DIR: s.bulkDir,
        BULK_MIN_POLL_MS: '0',
      }),
      createLogger('silent')
    );
    try {
      const done = await poll(s, statusUrl);
      expect(done.status).toBe(200);
      const manifest = done.json as Manifest;
      expect(manifest.output.reduce((n, o) => n + o.count, 0)).toBe(300);
      const e = await finished(s, statusUrl);
      expect(new Set(idsOf(e, 'Patient')).size).toBe(300);
    } finally {
      await again.stop();
    }
  } finally {
    await s.stop();
  }
});

test('exports and their files are deleted after BULK_EXPIRY_HOURS', async () => {
  await withBulkServer({ BULK_EXPIRY_HOURS: '0.0001' }, async (s) => {
    const statusUrl = await kickoff(s, '$export?_type=Patient');
    expect((await poll(s, statusUrl)).status).toBe(200);
    const id = statusUrl.split('/').pop() as string;
    expect(existsSync(join(s.bulkDir, id))).toBe(true);
    await new Promise((r) => setTimeout(r, 500));
    await s.hale.bulk.sweep();
    expect((await call(s, 'GET', statusUrl)).status).toBe(404);
    expect(existsSync(join(s.bulkDir, id))).toBe(false);
  });
});

test('the completion and every download are audited with the patients covered, not per resource', async () => {
  await withBulkServer({}, async (s) => {
    const a = (await s.create({ resourceType: 'Patient' })).id;
    const b = (await s.create({ resourceType: 'Patient' })).id;
    await s.create(observation(a, 'laboratory', '2026-01-01'));
    await s.create(observation(a, 'vital-signs', '2026-01-02'));
    const e = await exportAll(s, 'Patient/$export?_type=Patient,Observation');
    const id = e.manifest.output[0]?.url.split('/').slice(-2)[0] as string;
    const events = (
      await s.hale.db.query<{ content: string }>(
        sql`SELECT content FROM resource WHERE type = 'AuditEvent' AND NOT deleted AND content LIKE ${`%${id}%`}`
      )
    ).map((r) => JSON.parse(r.content) as AuditEvent);
    const step = (ev: AuditEvent) => ev.subtype?.find((c) => c.system?.endsWith('/bulk-audit'))?.code;
    const summaries = events.filter((ev) =>
      ev.entity?.some((en) => en.detail?.some((d) => d.type === 'patient-count'))
    );
    const count = (ev: AuditEvent, type: string) =>
      ev.entity?.flatMap((en) => en.detail ?? []).find((d) => d.type === type)?.valueString;
    const completed = summaries.filter((ev) => step(ev) === 'export-completed');
    expect(completed).toHaveLength(1);
    expect(count(completed[0] as AuditEvent, 'patient-count')).toBe('2');
    expect(count(completed[0] as AuditEvent, 'resource-count')).toBe('4');
    const downloads = summaries.filter((ev) => step(ev) === 'file-download');
    expect(downloads).toHaveLength(2);
    // Both files hold two resources, so the Observation file's event is found by its URL.
    const obsUrl = e.manifest.output.find((o) => o.type === 'Observation')?.url;
    const obsDownload = downloads.find((ev) =>
      ev.entity?.some((en) => en.detail && en.description === obsUrl)
    ) as AuditEvent;
    expect(count(obsDownload, 'resource-count')).toBe('2');
    expect(count(obsDownload, 'patient-count')).toBe('1');
    // One event per patient besides the summary, each naming only its patient.
    const perPatient = events.filter((ev) => step(ev) === 'file-download' && !summaries.includes(ev));
    expect(
      perPatient
        .map((ev) => ev.entity?.find((en) => en.what?.reference?.startsWith('Patient/'))?.what?.reference)
        .sort()
    ).toEqual([`Patient/${a}`, `Patient/${b}`].sort());
  });
});
