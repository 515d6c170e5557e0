import type { Bundle, Observation, Patient } from '@medplum/fhirtypes';
import { randomUUID } from 'node:crypto';
import { newUrn, transaction } from '../test/bundles';
import type { RunningPgBouncer } from '../test/pgbouncer';
import { PGBOUNCER_BINARY, startPgBouncer } from '../test/pgbouncer';
import { createTestDatabase } from '../test/test-db';
import type { TestServer } from '../test/test-server';
import { startTestServer } from '../test/test-server';
import { Database } from './database';
import { sql } from './sql';

// Hale behind a real PgBouncer in transaction mode (docs/reliability.md, "Connection pooling"). PgBouncer needs a
// PostgreSQL server, so the embedded-database run of the suite skips this file; CI installs pgbouncer and runs it.
const ADMIN_URL = process.env.TEST_DATABASE_URL;
const runnable = ADMIN_URL && (PGBOUNCER_BINARY || process.env.CI);
const withPgBouncer = runnable ? describe : describe.skip;

const SYSTEM = 'https://hale.test/pgbouncer';

withPgBouncer('behind PgBouncer in transaction mode', () => {
  let bouncer: RunningPgBouncer;

  beforeAll(async () => {
    // Two server connections for Hale's twelve: consecutive statements of one Hale connection change sessions.
    bouncer = await startPgBouncer(ADMIN_URL ?? '', 2);
  });

  afterAll(async () => {
    await bouncer?.stop();
  });

  test('without DATABASE_POOLER, start-up fails with the reason (PgBouncer refuses the timeout startup parameter)', async () => {
    await expect(
      startTestServer((url) => ({ DATABASE_URL: bouncer.through(url), DATABASE_POOL_SIZE: '4' }))
    ).rejects.toThrow(/unsupported startup parameter: statement_timeout/);
  });

  describe('with DATABASE_POOLER=pgbouncer', () => {
    let srv: TestServer;

    beforeAll(async () => {
      srv = await startTestServer((url) => ({
        DATABASE_URL: bouncer.through(url),
        DATABASE_POOLER: 'pgbouncer',
        DATABASE_POOL_SIZE: '12',
      }));
    });

    afterAll(async () => {
      await srv?.stop();
    });

    test('concurrent transaction bundles commit whole, and searches see all of them', async () => {
      const runs = 16;
      const answers = await Promise.all(
        Array.from({ length: runs }, (_, i) => {
          const patient = newUrn();
          return srv.post<Bundle>(
            '',
            transaction([
              {
                fullUrl: patient,
                resource: { resourceType: 'Patient', identifier: [{ system: SYSTEM, value: `tx-${i}` }] },
                request: { method: 'POST', url: 'Patient' },
              },
              ...Array.from({ length: 5 }, (_, j) => ({
                resource: {
                  resourceType: 'Observation',
                  status: 'final',
                  code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] },
                  subject: { reference: patient },
                  effectiveDateTime: `2026-11-0${1 + (j % 9)}T08:00:00Z`,
                  valueQuantity: { value: 60 + j, unit: '/min', system: 'http://unitsofmeasure.org', code: '/min' },
                } satisfies Observation,
                request: { method: 'POST' as const, url: 'Observation' },
              })),
            ])
          );
        })
      );
      for (const a of answers) {
        expect(a.status).toBe(200);
        expect(a.body.entry?.map((e: { response?: { status?: string } }) => e.response?.status)).toEqual(
          Array(6).fill('201')
        );
      }
      const count = await srv.get<Bundle>(`Observation?subject:Patient.identifier=${SYSTEM}|&_summary=count`);
      expect(count.status).toBe(200);
      expect(count.body.total).toBe(runs * 5);
      const one = await srv.get<Bundle>(`Observation?subject:Patient.identifier=${SYSTEM}|tx-3&_count=2`);
      expect(one.body.entry).toHaveLength(2);
      const next = one.body.link?.find((l) => l.relation === 'next')?.url;
      expect(next).toBeDefined();
      const page2 = await srv.get<Bundle>(next ?? '');
      expect(page2.status).toBe(200);
      expect(page2.body.entry?.length).toBe(2);
    });

    test('ten concurrent conditional creates of one identifier make one resource', async () => {
      const value = randomUUID();
      const answers = await Promise.all(
        Array.from({ length: 10 }, () =>
          srv.post<Patient>(
            'Patient',
            { resourceType: 'Patient', identifier: [{ system: SYSTEM, value }] },
            { 'if-none-exist': `identifier=${SYSTEM}|${value}` }
          )
        )
      );
      expect(answers.filter((a) => a.status === 201)).toHaveLength(1);
      expect(answers.filter((a) => a.status === 200)).toHaveLength(9);
      const found = await srv.search(`Patient?identifier=${SYSTEM}|${value}`);
      expect(found.entry).toHaveLength(1);
    });

    test('concurrent updates of one version: one wins, the others get 412', async () => {
      const patient = await srv.create<Patient>({ resourceType: 'Patient', name: [{ family: 'Before' }] });
      const answers = await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          srv.put(`Patient/${patient.id}`, { ...patient, name: [{ family: `After-${i}` }] }, { 'if-match': 'W/"1"' })
        )
      );
      expect(answers.filter((a) => a.status === 200)).toHaveLength(1);
      expect(answers.filter((a) => a.status === 412)).toHaveLength(5);
      const history = await srv.get<Bundle>(`Patient/${patient.id}/_history`);
      expect(history.body.entry).toHaveLength(2);
    });

    test('a transaction with a bad entry writes nothing', async () => {
      const value = randomUUID();
      const answer = await srv.post('', {
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [
          {
            resource: { resourceType: 'Patient', identifier: [{ system: SYSTEM, value }] },
            request: { method: 'POST', url: 'Patient' },
          },
          {
            resource: { resourceType: 'Observation', status: 'not-a-status', code: { text: 'x' } },
            request: { method: 'POST', url: 'Observation' },
          },
        ],
      });
      expect(answer.status).toBe(400);
      expect(answer.body.resourceType).toBe('OperationOutcome');
      const found = await srv.search(`Patient?identifier=${SYSTEM}|${value}`);
      expect(found.entry ?? []).toHaveLength(0);
    });
  });

  describe('the statement timeout', () => {
    test('bounds each transaction (SET LOCAL in its BEGIN) and is reported unset outside one', async () => {
      const database = await createTestDatabase();
      const db = new Database(bouncer.through(database.url), 4, 400, 'pgbouncer');
      try {
        const inside = await db.transaction(async (tx) =>
          tx.query<{ t: string }>(sql`SELECT current_setting('statement_timeout') AS t`)
        );
        expect(inside[0]?.t).toBe('400ms');
        await expect(db.transaction(async (tx) => tx.query(sql`SELECT pg_sleep(2)`))).rejects.toMatchObject({
          code: '57014', // query_canceled: statement timeout
        });
        // Outside a transaction the server connection's own setting applies: none for this role.
        expect(await db.sessionTimeoutUnset()).toBe(true);
        // After a timed-out transaction the next one on the same pool works.
        const [row] = await db.transaction(async (tx) => tx.query<{ one: number }>(sql`SELECT 1 AS one`));
        expect(row?.one).toBe(1);
      } finally {
        await db.close();
        await database.drop();
      }
    });
  });
});
