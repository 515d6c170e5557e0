import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Bundle, Observation, Parameters } from '@medplum/fhirtypes';
import { Sql, sql } from '../db/sql';
import { account, observation, sharingConsent, userToken } from '../test/consent-fixtures';
import type { TestServer } from '../test/test-server';
import { startTestServer } from '../test/test-server';
import { component, ucum, validReading } from './examples';
import { LOINC } from './measurements';

/**
 * The measurement series index (db/migrations/0017_measurement_series.sql) behind $stats and $lastn: it follows
 * every write, rollback and Consent exactly as the search index does.
 */
let s: TestServer;

beforeAll(async () => {
  s = await startTestServer();
});

afterAll(async () => {
  await s?.stop();
});

const HR = `${LOINC}|8867-4`;
const RESTING = `${LOINC}|40443-4`;
const BP = `${LOINC}|85354-9`;
const SYSTOLIC = `${LOINC}|8480-6`;
const LAB_GLUCOSE = `${LOINC}|2339-0`;

const heartRate = (patient: string, at: string, bpm: number): Observation => ({
  ...validReading('heart-rate', patient, at),
  valueQuantity: ucum(bpm, '/min'),
});

const bloodPressure = (patient: string, at: string, systolic: number, diastolic: number): Observation => ({
  ...validReading('blood-pressure', patient, at),
  component: [
    component(LOINC, '8480-6', ucum(systolic, 'mm[Hg]')),
    component(LOINC, '8462-4', ucum(diastolic, 'mm[Hg]')),
  ],
});

async function newPatient(): Promise<string> {
  return (await s.create({ resourceType: 'Patient' })).id;
}

/** Each statistics parameter as [code, component, count, minimum, maximum]. */
async function stats(patient: string, code: string, headers?: Record<string, string>): Promise<unknown[][]> {
  const res = await s.get<Parameters>(`Observation/$stats?patient=${patient}&code=${code}`, headers);
  expect([res.status, res.body.resourceType]).toEqual([200, 'Parameters']);
  return (res.body.parameter ?? []).map((p) => {
    const part = (name: string): NonNullable<Parameters['parameter']>[number] | undefined =>
      p.part?.find((x) => x.name === name);
    return [
      part('code')?.valueCoding?.code,
      part('component')?.valueCoding?.code,
      part('count')?.valueInteger,
      part('minimum')?.valueDecimal,
      part('maximum')?.valueDecimal,
    ];
  });
}

/** The $lastn answer as [id, versionId, value] per Observation. */
async function lastn(patient: string, query: string, headers?: Record<string, string>): Promise<unknown[][]> {
  const res = await s.get<Bundle<Observation>>(`Observation/$lastn?patient=${patient}&${query}`, headers);
  expect(res.status).toBe(200);
  return (res.body.entry ?? []).map((e) => [
    e.resource?.id,
    e.resource?.meta?.versionId,
    e.resource?.valueQuantity?.value,
  ]);
}

/** The patient's series rows as [id, version, code, component, value], to show none is stale or left behind. */
async function seriesRows(patient: string): Promise<unknown[][]> {
  const rows = await s.hale.db.query<{
    id: string;
    version_id: number;
    code: string;
    comp_code: string | null;
    value: string | null;
  }>(
    sql`SELECT id, version_id, code, comp_code, value FROM measurement_series WHERE patient = ${patient}
      ORDER BY id, code, comp_code NULLS FIRST`
  );
  return rows.map((r) => [r.id, r.version_id, r.code, r.comp_code, r.value === null ? null : Number(r.value)]);
}

async function provider(): Promise<{ ref: string; headers: Record<string, string> }> {
  const practitioner = await s.create({ resourceType: 'Practitioner', name: [{ family: 'Series' }] });
  const token = await userToken(s, await account(s, ['provider'], { type: 'Practitioner', id: practitioner.id }));
  return { ref: `Practitioner/${practitioner.id}`, headers: { authorization: `Bearer ${token}` } };
}

describe('the measurement series behind $stats and $lastn', () => {
  test('an update replaces its readings and a delete removes them (no stale values)', async () => {
    const patient = await newPatient();
    const first = await s.create(heartRate(patient, '2026-03-01T08:00:00Z', 60));
    const second = await s.create(heartRate(patient, '2026-03-02T08:00:00Z', 70));
    expect(await stats(patient, HR)).toEqual([['8867-4', undefined, 2, 60, 70]]);

    const changed = await s.put(`Observation/${second.id}`, {
      ...heartRate(patient, '2026-03-03T08:00:00Z', 90),
      id: second.id,
    });
    expect(changed.status).toBe(200);
    expect(await stats(patient, HR)).toEqual([['8867-4', undefined, 2, 60, 90]]);
    expect(await lastn(patient, `code=${HR}`)).toEqual([[second.id, '2', 90]]);

    // A new code moves the reading to that series.
    await s.put(`Observation/${first.id}`, {
      ...validReading('resting-heart-rate', patient, '2026-03-01T08:00:00Z'),
      valueQuantity: ucum(52, '/min'),
      id: first.id,
    });
    expect(await stats(patient, HR)).toEqual([['8867-4', undefined, 1, 90, 90]]);
    expect(await stats(patient, RESTING)).toEqual([['40443-4', undefined, 1, 52, 52]]);

    expect((await s.del(`Observation/${second.id}`)).status).toBeLessThan(300);
    expect(await stats(patient, HR)).toEqual([]);
    expect(await lastn(patient, `code=${HR},${RESTING}`)).toEqual([[first.id, '2', 52]]);
    expect(await seriesRows(patient)).toEqual([[first.id, 2, '40443-4', null, 52]]);
  });

  test('blood pressure: a series per component, systolic alone finds the panels, an update changes both', async () => {
    const patient = await newPatient();
    const one = await s.create(bloodPressure(patient, '2026-03-01T09:00:00Z', 120, 80));
    await s.create(bloodPressure(patient, '2026-03-02T09:00:00Z', 140, 90));
    expect(await stats(patient, BP)).toEqual([
      ['85354-9', '8462-4', 2, 80, 90],
      ['85354-9', '8480-6', 2, 120, 140],
    ]);
    expect(await stats(patient, SYSTOLIC)).toEqual([['8480-6', undefined, 2, 120, 140]]);
    // A panel coded twice, with a pulse: the pulse counts once in the heart-rate series.
    const twice = bloodPressure(patient, '2026-03-03T09:00:00Z', 150, 95);
    await s.create({
      ...twice,
      code: { coding: [...(twice.code.coding ?? []), { system: LOINC, code: '55284-4' }] },
      component: [...(twice.component ?? []), component(LOINC, '8867-4', ucum(77, '/min'))],
    });
    expect(await stats(patient, HR)).toEqual([['8867-4', undefined, 1, 77, 77]]);
    expect(await stats(patient, SYSTOLIC)).toEqual([['8480-6', undefined, 3, 120, 150]]);

    await s.put(`Observation/${one.id}`, { ...bloodPressure(patient, '2026-03-01T09:00:00Z', 110, 70), id: one.id });
    expect(await stats(patient, BP)).toEqual([
      ['85354-9', '8462-4', 3, 70, 95],
      ['85354-9', '8480-6', 3, 110, 150],
      ['85354-9', '8867-4', 1, 77, 77],
    ]);
    const latest = await s.get<Bundle<Observation>>(`Observation/$lastn?patient=${patient}&code=${BP}&max=3`);
    expect(latest.body.entry?.map((e) => e.resource?.component?.[0]?.valueQuantity?.value)).toEqual([150, 140, 110]);
    // One own row (no value of its own) and two component rows per panel.
    expect((await seriesRows(patient)).filter((r) => r[0] === one.id)).toEqual([
      [one.id, 2, '85354-9', null, null],
      [one.id, 2, '85354-9', '8462-4', 70],
      [one.id, 2, '85354-9', '8480-6', 110],
    ]);
  });

  test('a provider with a vitals-only grant for 30 days of data sees only those readings', async () => {
    const patient = await newPatient();
    const inside = await s.create(heartRate(patient, '2026-03-10T08:00:00Z', 64));
    await s.create(heartRate(patient, '2026-01-15T08:00:00Z', 99)); // before the shared period
    const bp = await s.create(bloodPressure(patient, '2026-03-12T09:00:00Z', 125, 82));
    const lab = await s.create(observation(patient, 'laboratory', '2026-03-11T07:00:00Z'));
    const { ref, headers } = await provider();
    await s.create(
      sharingConsent({
        patient,
        actor: { reference: ref },
        categories: ['vitals'],
        dataPeriod: { start: '2026-03-01', end: '2026-03-30' },
      })
    );

    expect(await stats(patient, HR, headers)).toEqual([['8867-4', undefined, 1, 64, 64]]);
    expect(await stats(patient, LAB_GLUCOSE, headers)).toEqual([]);
    expect(await stats(patient, BP, headers)).toEqual([
      ['85354-9', '8462-4', 1, 82, 82],
      ['85354-9', '8480-6', 1, 125, 125],
    ]);
    expect((await lastn(patient, `code=${HR},${LAB_GLUCOSE},${BP}&max=5`, headers)).map((r) => r[0])).toEqual([
      inside.id,
      bp.id,
    ]);
    expect((await lastn(patient, 'category=vital-signs,laboratory', headers)).map((r) => r[0]).sort()).toEqual(
      [inside.id, bp.id].sort()
    );
    // The patient's own record: every reading.
    expect(await stats(patient, HR)).toEqual([['8867-4', undefined, 2, 64, 99]]);
    expect((await lastn(patient, `code=${LAB_GLUCOSE}`)).map((r) => r[0])).toEqual([lab.id]);
    // Someone with no grant gets nothing.
    const stranger = (await provider()).headers;
    expect(await stats(patient, HR, stranger)).toEqual([]);
    expect(await lastn(patient, `code=${HR}`, stranger)).toEqual([]);
  });

  test('a transaction that rolls back leaves no series rows', async () => {
    const patient = await newPatient();
    await s.create(heartRate(patient, '2026-03-01T08:00:00Z', 60));
    const res = await s.post('', {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { resource: heartRate(patient, '2026-03-02T08:00:00Z', 70), request: { method: 'POST', url: 'Observation' } },
        { resource: heartRate(patient, '2026-03-03T08:00:00Z', 80), request: { method: 'POST', url: 'Observation' } },
        // Not an Observation Hale can store: the whole transaction fails.
        { resource: { resourceType: 'Observation' }, request: { method: 'POST', url: 'Observation' } },
      ],
    });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(await stats(patient, HR)).toEqual([['8867-4', undefined, 1, 60, 60]]);
    expect((await seriesRows(patient)).length).toBe(1);
  });

  test("the migration's backfill gives the rows the write path gives", async () => {
    const patient = await newPatient();
    await s.create(heartRate(patient, '2026-03-01T08:00:00Z', 60));
    await s.create(bloodPressure(patient, '2026-03-02T09:00:00Z', 130, 85));
    await s.create({ ...validReading('mood', patient, '2026-03-02T21:00:00Z'), valueInteger: 4 });
    await s.create({
      ...validReading('body-weight', patient, '2026-03-03T07:00:00Z'),
      valueQuantity: ucum(160, '[lb_av]'),
    });
    const columns = sql`SELECT rid, patient, system, code, at, at_high, comp_system, comp_code, grp, value, unit, status,
      categories, type, id, version_id, last_updated, compartments FROM measurement_series`;
    const all = async (): Promise<unknown[]> =>
      s.hale.db.query(sql`${columns} ORDER BY rid, system, code, comp_code NULLS FIRST, grp`);
    const written = await all();
    expect(written.length).toBeGreaterThan(5);
    const migration = readFileSync(join(__dirname, '../db/migrations/0017_measurement_series.sql'), 'utf8');
    const backfill = migration.slice(migration.indexOf('WITH sp AS'));
    await s.hale.db.transaction(async (tx) => {
      await tx.query(sql`DELETE FROM measurement_series`);
      await tx.query(new Sql([backfill], []));
    });
    expect(await all()).toEqual(written);
  });

  test('a reindex of Observations rebuilds their series rows', async () => {
    const patient = await newPatient();
    await s.create(bloodPressure(patient, '2026-03-02T09:00:00Z', 130, 85));
    await s.create(heartRate(patient, '2026-03-03T08:00:00Z', 66));
    const before = await seriesRows(patient);
    await s.hale.db.query(sql`DELETE FROM measurement_series WHERE patient = ${patient}`);
    // No recorded index state: the job rebuilds the type (jobs/reindex.ts).
    await s.hale.db.query(sql`DELETE FROM index_state WHERE resource_type = 'Observation'`);
    const summary = await s.hale.reindexer.run({ types: ['Observation'] });
    expect(summary.reindexed).toMatchObject([{ type: 'Observation', complete: true }]);
    expect(await seriesRows(patient)).toEqual(before);
    expect(await stats(patient, HR)).toEqual([['8867-4', undefined, 1, 66, 66]]);
  });
});
