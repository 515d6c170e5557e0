import type { Queryable } from '../db/database';
import type { Sql } from '../db/sql';
import { and, sql } from '../db/sql';
import type { RepoContext } from '../storage/context';
import type { LastnQuery } from './lastn';
import type { LastnRow } from './lastn-rows';
import { pickedRows } from './lastn-rows';
import type { SeriesCoding } from './series-where';
import { seriesCategoriesOf, seriesCodingOf, seriesPatientOf, seriesWhere } from './series-where';

/**
 * $lastn from measurement_series, when the query is what the series answers: one patient, optionally categories
 * (system|code), and system|code codes (or none: every code of the patient's series). Each group is a backward
 * scan of the (patient, system, code, at_high) index under the caller's access filter, stopping at `max`; the
 * search path instead sorted every reading of the code by a per-reading probe. Undefined: take the search path.
 * Observations without an effective time are in no series; their profiles require one (docs/wellness.md).
 */
export async function seriesLastN(
  db: Queryable,
  ctx: RepoContext,
  q: LastnQuery,
  maxGroups: number
): Promise<LastnRow[] | undefined> {
  const plan = planOf(q);
  if (!plan) {
    return undefined;
  }
  const codings = plan.codings ?? (await codingsOf(db, plan.patientId, maxGroups + 1));
  if (codings.length > maxGroups) {
    return undefined; // more codes than one statement holds: the search path says which it keeps
  }
  if (codings.length === 0) {
    ctx.access.checkInteraction('Observation', 'search');
    return [];
  }
  const categories = plan.categories.map((c) => sql`s.categories && ${c}::text[]`);
  return pickedRows(
    db,
    codings.map(
      (coding, g) => sql`(SELECT ${g}::int AS g, s.rid, s.at_high AS at FROM measurement_series s
        WHERE ${and([seriesWhere(ctx, plan.patientId, coding), sql`s.comp_code IS NULL`, ...categories])}
        ORDER BY s.at_high DESC FETCH FIRST (${q.max}::int) ROWS WITH TIES)`
    )
  );
}

interface Plan {
  patientId: string;
  codings: SeriesCoding[] | undefined;
  /** Each category filter's alternatives (the filters AND, the alternatives OR). */
  categories: string[][];
}

function planOf(q: LastnQuery): Plan | undefined {
  let patientId: string | undefined;
  const categories: string[][] = [];
  for (const f of q.filters) {
    const patient = patientId === undefined ? seriesPatientOf(f) : undefined;
    const category = f.code === 'category' ? seriesCategoriesOf(f) : undefined;
    if (patient !== undefined) {
      patientId = patient;
    } else if (category !== undefined) {
      categories.push(category);
    } else {
      return undefined;
    }
  }
  const codings = q.codes?.map(seriesCodingOf);
  if (patientId === undefined || codings?.some((c) => c === undefined)) {
    return undefined;
  }
  return { patientId, codings: codings as SeriesCoding[] | undefined, categories };
}

/**
 * The distinct codings of a patient's series, in system|code order, by a loose index scan: one index probe per
 * coding, not a read of every reading. Codings of readings the caller may not see are candidates too; their
 * groups come back empty under the access filter.
 */
async function codingsOf(db: Queryable, patientId: string, limit: number): Promise<SeriesCoding[]> {
  const next = (after: Sql): Sql => sql`SELECT s.system, s.code FROM measurement_series s
    WHERE s.patient = ${patientId} AND s.comp_code IS NULL ${after} ORDER BY s.system, s.code LIMIT 1`;
  return db.query<SeriesCoding>(sql`WITH RECURSIVE c(system, code) AS (
      (${next(sql``)})
      UNION ALL
      SELECT n.system, n.code FROM c CROSS JOIN LATERAL (${next(sql`AND (s.system, s.code) > (c.system, c.code)`)}) n
    ) SELECT system, code FROM c LIMIT ${limit}`);
}
