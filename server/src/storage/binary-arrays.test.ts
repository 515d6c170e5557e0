import pg from 'pg';
import type { TestDatabase } from '../test/test-db';
import { createTestDatabase } from '../test/test-db';
import { boolArray, int4Array, int8Array, textArray } from './binary-arrays';

let db: TestDatabase;
let client: pg.Client;
beforeAll(async () => {
  db = await createTestDatabase();
  client = new pg.Client({ connectionString: db.url });
  await client.connect();
});
afterAll(async () => {
  await client?.end();
  await db?.drop();
});

describe('binary array parameters', () => {
  test('text[] keeps every string exactly, NULLs and empty strings included', async () => {
    const values = ['{"a":"b\\\\c"}', '', null, 'café ✓ 𝄞', 'a,b', 'NULL', '"quoted"', 'x'.repeat(5000)];
    const { rows } = await client.query<{ v: (string | null)[] }>('SELECT $1::text[] AS v', [textArray(values)]);
    expect(rows[0]?.v).toEqual(values);
  });

  test('int4[], int8[] and bool[] round-trip, and text[] casts to timestamptz[] and numeric[]', async () => {
    const { rows } = await client.query(
      `SELECT $1::int[] AS i, $2::bigint[]::text[] AS b, $3::bool[] AS f,
         ($4::text[]::timestamptz[])[1] = '2012-09-11T18:50:00Z'::timestamptz AS t, ($5::text[]::numeric[])::text[] AS n`,
      [
        int4Array([0, -1, 2147483647]),
        int8Array([1, 4294967296, Number.MAX_SAFE_INTEGER]),
        boolArray([true, false]),
        textArray(['2012-09-11T18:50:00.000Z', '-infinity']),
        textArray(['1.50', '-3e2']),
      ]
    );
    expect(rows[0]).toEqual({
      i: [0, -1, 2147483647],
      b: ['1', '4294967296', String(Number.MAX_SAFE_INTEGER)],
      f: [true, false],
      t: true,
      n: ['1.50', '-300'],
    });
  });
});
