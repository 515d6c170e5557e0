/**
 * The raw-PostgreSQL floor of the wellness phase, measured in the same run: the bench's readings in a temporary
 * table shaped for the two questions — (patient, code, effective, value, JSON) with an index on
 * (patient, code, effective) — and the same questions as prepared statements over one pg connection, with no
 * HTTP, no JSON parsing, no access filter. Hale's p50 over this p50 is the phase's ratio.
 */
import type { Observation } from '@medplum/fhirtypes';
import pg from 'pg';
import { measure } from './measure';
import type { CheckedLatency } from './measure';

export interface WellnessFloor {
  readonly stats: CheckedLatency;
  readonly lastn: CheckedLatency;
}

export async function wellnessFloor(
  databaseUrl: string,
  readings: readonly Observation[],
  codes: readonly string[],
  items: number[],
  warmUp: number
): Promise<WellnessFloor> {
  const client = new pg.Client({ connectionString: databaseUrl, application_name: 'hale-bench-floor' });
  await client.connect();
  try {
    await client.query(`CREATE TEMP TABLE floor_series (patient text, code text, at timestamptz, value numeric,
      content text)`);
    await client.query(
      `INSERT INTO floor_series SELECT 'p', code, at, value, content
       FROM unnest($1::text[], $2::timestamptz[], $3::numeric[], $4::text[]) AS x (code, at, value, content)`,
      [
        readings.map((r) => r.code.coding?.[0]?.code ?? ''),
        readings.map((r) => r.effectiveDateTime),
        readings.map((r) => r.valueQuantity?.value),
        readings.map((r) => JSON.stringify(r)),
      ]
    );
    await client.query('CREATE INDEX ON floor_series (patient, code, at)');
    await client.query('ANALYZE floor_series');
    const statsSql = `SELECT count(*), min(value), max(value), round(avg(value), 4) AS average,
      percentile_cont(0.5) WITHIN GROUP (ORDER BY value) AS median
      FROM floor_series WHERE patient = $1 AND code = $2 AND at >= $3 AND at < $4`;
    const stats = await measure(items, warmUp, async () => {
      const start = performance.now();
      const res = await client.query({
        name: 'floor_stats',
        text: statsSql,
        values: ['p', codes[0], '2025-01-01', '2026-01-01'],
      });
      return { ms: performance.now() - start, problem: res.rows.length === 1 ? undefined : 'no floor statistics' };
    });
    const lastnSql = codes
      .map(
        (_, i) => `(SELECT code, at, content FROM floor_series WHERE patient = $1 AND code = $${i + 2}
        ORDER BY at DESC LIMIT 1)`
      )
      .join(' UNION ALL ');
    const lastn = await measure(items, warmUp, async () => {
      const start = performance.now();
      const res = await client.query({ name: 'floor_lastn', text: lastnSql, values: ['p', ...codes] });
      return { ms: performance.now() - start, problem: res.rows.length === codes.length ? undefined : 'floor lastn' };
    });
    return { stats, lastn };
  } finally {
    await client.end();
  }
}
