import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { Resource } from '@medplum/fhirtypes';
import { raw, sql } from '../db/sql';
import { getResourceTypes } from '../fhir/definitions';
import { indexFingerprint } from '../storage/indexer/fingerprint';
import type { FhirResponse, TestServer } from '../test/test-server';
import { matchIds, startTestServer } from '../test/test-server';

const ROOT = join(__dirname, '../../..');
const TABLES = ['token', 'string', 'date', 'number', 'quantity', 'reference', 'uri'];
const describeWithServerDatabase = process.env.TEST_DATABASE_URL ? describe : describe.skip;

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => {
  await s?.stop();
});

/** Index rows per idx_* table, and the compartments, of a type's resources. */
async function indexOf(type: string): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const table of TABLES) {
    const [row] = await s.hale.db.query<{ n: number }>(sql`SELECT count(*)::int AS n FROM ${raw(`idx_${table}`)} x
      JOIN resource r ON r.rid = x.rid WHERE r.type = ${type}`);
    out[table] = row?.n;
  }
  const comps = await s.hale.db.query<{ id: string; compartments: string[] }>(
    sql`SELECT id, compartments FROM resource WHERE type = ${type} ORDER BY id`
  );
  out.compartments = comps.map((r) => `${r.id}:${r.compartments.join(',')}`);
  return out;
}

/** What a search-parameter change would leave behind: rows missing, and the type's fingerprint not current. */
async function loseIndexRows(type: string, state: { fingerprint: string | null; target?: string; after?: string }) {
  for (const table of TABLES) {
    await s.hale.db.query(
      sql`DELETE FROM ${raw(`idx_${table}`)} WHERE rid IN (SELECT rid FROM resource WHERE type = ${type})`
    );
  }
  await s.hale.db.query(sql`UPDATE resource SET compartments = '{}' WHERE type = ${type}`);
  await s.hale.db.query(sql`UPDATE index_state SET fingerprint = ${state.fingerprint}, target = ${state.target ?? null},
    resume_after_id = ${state.after ?? null} WHERE resource_type = ${type}`);
}

async function stateOf(type: string): Promise<Record<string, unknown> | undefined> {
  const [row] = await s.hale.db.query(
    sql`SELECT fingerprint, target, resume_after_id, reindexed_at IS NOT NULL AS reindexed FROM index_state
      WHERE resource_type = ${type}`
  );
  return row;
}

function condition(id: string, code: string, patient: string): Resource {
  return {
    resourceType: 'Condition',
    id,
    code: { coding: [{ system: 'http://snomed.info/sct', code }] },
    subject: { reference: `Patient/${patient}` },
  };
}

test('a fresh database records every type as current and rebuilds nothing', async () => {
  const summary = await s.hale.reindexer.run(); // after the run the server started
  expect(summary).toMatchObject({ reindexed: [], recorded: 0, busy: false });
  const rows = await s.hale.db.query<{ resource_type: string; fingerprint: string; reindexed_at: string | null }>(
    sql`SELECT resource_type, fingerprint, reindexed_at FROM index_state ORDER BY resource_type`
  );
  expect(rows.map((r) => r.resource_type)).toEqual([...getResourceTypes()].sort());
  expect(rows.filter((r) => r.fingerprint !== indexFingerprint(r.resource_type) || r.reindexed_at)).toEqual([]);
});

test('a type whose fingerprint is stale is rebuilt, and its searches find what they missed', async () => {
  const patient = await s.create({ resourceType: 'Patient', name: [{ family: 'Reindex' }] });
  for (const value of [60, 72, 95]) {
    await s.create({
      resourceType: 'Observation',
      status: 'final',
      code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] },
      subject: { reference: `Patient/${patient.id}` },
      effectiveDateTime: '2024-05-01T10:00:00Z',
      valueQuantity: { value, unit: '/min', system: 'http://unitsofmeasure.org', code: '/min' },
    });
  }
  const search = `Observation?code=http://loinc.org|8867-4&subject=Patient/${patient.id}&value-quantity=gt70`;
  const found = matchIds(await s.search(search));
  expect(found).toHaveLength(2);
  const before = await indexOf('Observation');

  await loseIndexRows('Observation', { fingerprint: 'stale' });
  expect(matchIds(await s.search(search))).toEqual([]);

  const summary = await s.hale.reindexer.run();
  expect(summary.reindexed).toEqual([{ type: 'Observation', resources: 3, ms: expect.any(Number), complete: true }]);
  expect(matchIds(await s.search(search))).toEqual(found);
  expect(await indexOf('Observation')).toEqual(before);
  expect(await stateOf('Observation')).toEqual({
    fingerprint: indexFingerprint('Observation'),
    target: null,
    resume_after_id: null,
    reindexed: true,
  });
});

test('a type with resources and no recorded state (a database from before index_state) is rebuilt', async () => {
  const before = await indexOf('Patient');
  await loseIndexRows('Patient', { fingerprint: null });
  await s.hale.db.query(sql`DELETE FROM index_state WHERE resource_type = 'Patient'`);
  expect(matchIds(await s.search('Patient?family=Reindex'))).toEqual([]);

  const summary = await s.hale.reindexer.run();
  expect(summary.reindexed).toMatchObject([{ type: 'Patient', resources: 1, complete: true }]);
  expect(await indexOf('Patient')).toEqual(before);
  expect(matchIds(await s.search('Patient?family=Reindex'))).toHaveLength(1);
  expect((await stateOf('Patient'))?.fingerprint).toBe(indexFingerprint('Patient'));
});

test('a reindex resumes after the last id its saved position names', async () => {
  const patient = await s.create({ resourceType: 'Patient', name: [{ family: 'Resume' }] });
  for (const id of ['resume-a', 'resume-b', 'resume-c', 'resume-d']) {
    expect((await s.put(`Condition/${id}`, condition(id, '38341003', patient.id))).status).toBe(201);
  }
  const target = indexFingerprint('Condition');
  await loseIndexRows('Condition', { fingerprint: null, target, after: 'resume-b' });

  const summary = await s.hale.reindexer.run({ types: ['Condition'] });
  expect(summary.reindexed).toEqual([{ type: 'Condition', resources: 2, ms: expect.any(Number), complete: true }]);
  expect(matchIds(await s.search('Condition?code=38341003'))).toEqual(['resume-c', 'resume-d']);
  expect((await stateOf('Condition'))?.fingerprint).toBe(target);
});

test('a batch saves its position, so a run that stops carries on where it left off', async () => {
  await loseIndexRows('Condition', { fingerprint: 'stale' });
  await s.hale.reindexer
    .run({
      types: ['Condition'],
      batchSize: 1,
      duringBatch: async (ids) => {
        if (ids[0] === 'resume-b') {
          throw new Error('stopped here');
        }
      },
    })
    .catch(() => undefined);
  expect(await stateOf('Condition')).toMatchObject({ fingerprint: null, resume_after_id: 'resume-a' });
  expect(matchIds(await s.search('Condition?code=38341003'))).toEqual(['resume-a']);

  const summary = await s.hale.reindexer.run({ batchSize: 1 });
  expect(summary.reindexed).toMatchObject([{ type: 'Condition', resources: 3, complete: true }]);
  expect(matchIds(await s.search('Condition?code=38341003'))).toHaveLength(4);
});

test('older versions and deleted resources get their compartments in the running order too', async () => {
  // Access to a version follows the first of its compartments (whom it is about), so stored rows
  // from an indexer that ordered them otherwise are rebuilt, history included.
  const [b, a] = [await s.create({ resourceType: 'Patient' }), await s.create({ resourceType: 'Patient' })];
  const request = (value: number): Resource => ({
    resourceType: 'ServiceRequest',
    id: 'about-b',
    status: 'active',
    intent: 'order',
    code: { text: 'pulse' },
    performer: [{ reference: `Patient/${a.id}` }],
    subject: { reference: `Patient/${b.id}` },
    quantityQuantity: { value },
  });
  for (const id of ['about-b', 'gone-b']) {
    await s.put(`ServiceRequest/${id}`, { ...request(60), id });
    await s.put(`ServiceRequest/${id}`, { ...request(61), id });
  }
  await s.del('ServiceRequest/gone-b');
  const stored = async () =>
    (
      await s.hale.db.query<{ id: string; version_id: number; compartments: string[] }>(sql`
        SELECT id, version_id, compartments FROM resource WHERE id IN ('about-b', 'gone-b')
        UNION ALL SELECT id, version_id, compartments FROM resource_history WHERE id IN ('about-b', 'gone-b')
        ORDER BY 1, 2`)
    ).map((r) => `${r.id}/${r.version_id}:${r.compartments.join(',')}`);
  const bFirst = `${b.id},${a.id}`;
  const expected = ['about-b/1', 'about-b/2', 'gone-b/1', 'gone-b/2', 'gone-b/3'].map((v) => `${v}:${bFirst}`);
  expect(await stored()).toEqual(expected);

  const reversed = sql`ARRAY[${a.id}, ${b.id}]::text[]`;
  await s.hale.db.query(sql`UPDATE resource SET compartments = ${reversed} WHERE id IN ('about-b', 'gone-b')`);
  await s.hale.db.query(sql`UPDATE resource_history SET compartments = ${reversed} WHERE id IN ('about-b', 'gone-b')`);
  await s.hale.db.query(sql`UPDATE index_state SET fingerprint = 'stale' WHERE resource_type = 'ServiceRequest'`);
  await s.hale.reindexer.run({ types: ['ServiceRequest'] });
  expect(await stored()).toEqual(expected);
});

describeWithServerDatabase('with concurrent writers and the CLI (a PostgreSQL server, not PGlite)', () => {
  /** Resolves once some statement of the test database waits for a row lock. */
  async function someoneWaitsForALock(): Promise<void> {
    for (let i = 0; i < 100; i++) {
      const [row] = await s.hale.db.query<{ n: number }>(sql`SELECT count(*)::int AS n FROM pg_stat_activity
        WHERE datname = current_database() AND wait_event_type = 'Lock'`);
      if (row?.n) {
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error('no writer waited for the batch');
  }

  test('a resource updated while the job runs keeps the rows of its new version', async () => {
    const patient = await s.create({ resourceType: 'Patient', name: [{ family: 'Concurrent' }] });
    for (const id of ['race-a', 'race-b']) {
      await s.put(`Condition/${id}`, condition(id, '195967001', patient.id));
    }
    await loseIndexRows('Condition', { fingerprint: 'stale' });
    let blocked: Promise<FhirResponse> | undefined;
    await s.hale.reindexer.run({
      types: ['Condition'],
      batchSize: 1,
      duringBatch: async (ids) => {
        if (ids[0] === 'race-a') {
          // race-a is locked by this batch: its update waits, then replaces the rows written here.
          blocked = s.put('Condition/race-a', condition('race-a', '73211009', patient.id));
          await someoneWaitsForALock();
          // race-b is not locked yet: its update commits now, and its batch reads the new version.
          expect((await s.put('Condition/race-b', condition('race-b', '73211009', patient.id))).status).toBe(200);
        }
      },
    });
    expect((await blocked)?.status).toBe(200);
    expect(matchIds(await s.search('Condition?code=73211009'))).toEqual(['race-a', 'race-b']);
    expect(matchIds(await s.search('Condition?code=195967001'))).toEqual([]);
    expect(matchIds(await s.search(`Condition?patient=${patient.id}`))).toEqual(['race-a', 'race-b']);
  });

  test('npm run hale -- reindex rebuilds a type on demand and prints a summary', async () => {
    const before = await indexOf('Observation');
    const run = await hale(['reindex', '--type', 'Observation', '--force']);
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({
      reindexed: [{ type: 'Observation', resources: 3, complete: true }],
      busy: false,
    });
    expect(run.stderr).toContain('"msg":"reindexed"');
    expect(await indexOf('Observation')).toEqual(before);
    const nothing = await hale(['reindex']);
    expect(JSON.parse(nothing.stdout)).toMatchObject({ reindexed: [], recorded: 0 });
    expect((await hale(['reindex', '--type', 'Nonsense'])).status).toBe(2);
  });

  /** Runs the CLI as an operator would, on the test server's database and base URL. */
  function hale(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
    const child = spawn(process.execPath, ['--import', 'tsx', 'server/src/cli.ts', ...args], {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: s.databaseUrl, BASE_URL: s.hale.url, LOG_LEVEL: 'info' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    return new Promise((resolve) => child.on('close', (status) => resolve({ status, stdout, stderr })));
  }
});
