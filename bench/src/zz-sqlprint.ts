// Prints the SQL Hale runs for a search, by wrapping pg's query, and EXPLAIN ANALYZEs it.
import pg from 'pg';
import { parseSearchRequest } from '@medplum/core';
import { Database } from '/work/main/server/src/db/database';
import { loadFhirDefinitions } from '/work/main/server/src/fhir/definitions';
import { SearchParamRegistry } from '/work/main/server/src/storage/search-params';
import { HaleRepository } from '/work/main/server/src/storage/repository';
import { systemAccess } from '/work/main/server/src/storage/access';

async function main() {
  const [url, search] = process.argv.slice(2) as [string, string];
  loadFhirDefinitions();
  const db = new Database(url, 2);
  const registry = await SearchParamRegistry.load(db);
  const captured: { text: string; values: unknown[] }[] = [];
  const orig = pg.Pool.prototype.query;
  (pg.Pool.prototype as any).query = function (this: any, q: any, v?: any) {
    if (typeof q === 'object' && q.text) captured.push({ text: q.text, values: q.values });
    else captured.push({ text: q, values: v });
    return orig.apply(this, arguments as any);
  };
  const repo = new HaleRepository({ db, access: systemAccess, searchParams: registry, baseUrl: 'http://x/fhir/R4', validate: false } as any);
  await repo.search(parseSearchRequest(search));
  (pg.Pool.prototype as any).query = orig;
  for (const c of captured) {
    console.log('SQL:', c.text, '\nVALUES:', JSON.stringify(c.values));
    const client = new pg.Client(url);
    await client.connect();
    const r = await client.query(`EXPLAIN (ANALYZE, BUFFERS) ${c.text}`, c.values as any[]);
    console.log(r.rows.map((x: any) => x['QUERY PLAN']).join('\n'));
    await client.end();
  }
  await db.close();
}
main();
