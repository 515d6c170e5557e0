/**
 * The raw PostgreSQL floor, measured in the same run on the same server: the same resource JSON
 * written with plain multi-row INSERTs into one simple table (content as JSONB), then read back by
 * primary key and by a patient+code+date query on an expression index. Hale's figures are compared
 * with these, so the ratio says how much the FHIR layer costs on this machine.
 */
import pg from 'pg';
import type { Dataset } from './dataset';
import { pick, summarize, timeEach, warmedUp, type LatencySummary } from './stats';

export interface FloorResult {
  readonly rows: number;
  readonly insertMs: number;
  readonly rowsPerSecond: number;
  readonly idLookup: LatencySummary;
  readonly patientCodeDate: LatencySummary;
  /** Rows a patient+code+date query returned on average: it must find something to be a floor. */
  readonly patientCodeDateRowsPerQuery: number;
}

const WARM_UP = 20;

const TABLE = `CREATE TABLE floor_resource (id text PRIMARY KEY, type text NOT NULL, content jsonb NOT NULL)`;

// The same question as Hale's Observation?patient&code&date&_sort=-date, on the JSON itself.
const SEARCH_INDEX = `CREATE INDEX floor_observation_patient_code_date ON floor_resource
  ((content->'subject'->>'reference'), (content->'code'->'coding'->0->>'code'), (content->>'effectiveDateTime'))
  WHERE type = 'Observation'`;
const SEARCH = `SELECT content::text AS content FROM floor_resource
  WHERE type = 'Observation' AND content->'subject'->>'reference' = $1
    AND content->'code'->'coding'->0->>'code' = $2 AND content->>'effectiveDateTime' >= $3
  ORDER BY content->>'effectiveDateTime' DESC LIMIT 20`;

async function insertAll(client: pg.Client, data: Dataset, batch: number): Promise<number> {
  const start = performance.now();
  for (let i = 0; i < data.floorRows.length; i += batch) {
    const rows = data.floorRows.slice(i, i + batch);
    const values: string[] = [];
    const tuples = rows.map((row, j) => {
      values.push(row.id, row.type, row.content);
      return `($${3 * j + 1}, $${3 * j + 2}, $${3 * j + 3}::jsonb)`;
    });
    await client.query(`INSERT INTO floor_resource (id, type, content) VALUES ${tuples.join(', ')}`, values);
  }
  return performance.now() - start;
}

export async function measureFloor(
  databaseUrl: string,
  data: Dataset,
  options: { batch: number; lookups: number; searches: number }
): Promise<FloorResult> {
  const client = new pg.Client({ connectionString: databaseUrl, application_name: 'hale-bench-floor' });
  await client.connect();
  try {
    await client.query(TABLE);
    const insertMs = await insertAll(client, data, options.batch);
    await client.query(SEARCH_INDEX);
    await client.query('VACUUM ANALYZE floor_resource');

    // Like Hale's, the first requests only warm up and are not counted.
    const ids = warmedUp(
      pick(data.floorRows, options.lookups, data.seed).map((r) => r.id),
      WARM_UP
    );
    const lookup = { name: 'floor_lookup', text: 'SELECT content::text AS content FROM floor_resource WHERE id = $1' };
    const idSamples = await timeEach(ids, async (id) => {
      const { rowCount } = await client.query({ ...lookup, values: [id] });
      if (rowCount !== 1) {
        throw new Error(`Floor id lookup found ${rowCount} rows for ${id}`);
      }
    });

    let found = 0;
    const patients = warmedUp(pick(data.patients, options.searches, data.seed + 1), WARM_UP);
    const searchSamples = await timeEach(patients, async (p) => {
      const { rowCount } = await client.query({
        name: 'floor_search',
        text: SEARCH,
        values: [p.fullUrl, '8867-4', data.since],
      });
      found += rowCount ?? 0;
    });
    return {
      rows: data.floorRows.length,
      insertMs,
      rowsPerSecond: (data.floorRows.length / insertMs) * 1000,
      idLookup: summarize(idSamples.slice(WARM_UP)),
      patientCodeDate: summarize(searchSamples.slice(WARM_UP)),
      patientCodeDateRowsPerQuery: found / patients.length,
    };
  } finally {
    await client.end();
  }
}
