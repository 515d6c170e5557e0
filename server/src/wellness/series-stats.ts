import type { Sql } from '../db/sql';
import { sql } from '../db/sql';
import type { RepoContext } from '../storage/context';
import type { StatsQuery } from './stats';
import type { SeriesCoding } from './series-where';
import { seriesWhere } from './series-where';

/**
 * The values of one code's series for $stats, from measurement_series, as stats.ts's branches give them (g, csys,
 * ccode, unit, bucket, value): the Observations' own values (valueQuantity in its normalised unit, or
 * valueInteger) and their components' (a series per component code) in one range of the (patient, system, code,
 * at) index — where the search path probed four index tables per reading — and the components coded so in
 * Observations of another code (a pulse taken with a blood pressure). Entered-in-error readings are left out.
 */
export function seriesStatsBranches(
  ctx: RepoContext,
  q: StatsQuery,
  patientId: string,
  coding: SeriesCoding,
  g: number,
  bucketOf: (at: Sql) => Sql
): Sql[] {
  const range = sql`${q.start ? sql`AND s.at >= ${q.start}` : sql``} ${q.end ? sql`AND s.at < ${q.end}` : sql``}
    AND s.value IS NOT NULL AND s.status IS DISTINCT FROM 'entered-in-error'`;
  const own = sql`SELECT ${g}::int AS g, NULLIF(s.comp_system, '') AS csys, s.comp_code AS ccode, s.unit AS unit,
      ${bucketOf(sql`s.at`)} AS bucket, s.value AS value
    FROM measurement_series s WHERE ${seriesWhere(ctx, patientId, coding)} ${range}`;
  // A component's rows repeat under each coding of its Observation's code, all in this range: one value per
  // component (rid, grp), unless one of those codings is the code asked for (that value is in `own`).
  const elsewhere = sql`SELECT ${g}::int, NULL::text, NULL::text, min(s.unit), ${bucketOf(sql`min(s.at)`)},
      min(s.value)
    FROM measurement_series s WHERE ${seriesWhere(ctx, patientId, coding, true)} ${range}
    GROUP BY s.rid, s.grp HAVING NOT bool_or(s.system = ${coding.system} AND s.code = ${coding.code})`;
  return [own, elsewhere];
}
