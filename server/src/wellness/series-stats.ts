import type { Sql } from '../db/sql';
import { sql } from '../db/sql';
import type { RepoContext } from '../storage/context';
import type { StatsQuery } from './stats';
import type { SeriesCoding } from './series-where';
import { seriesWhere } from './series-where';

/**
 * The values of one code's series for $stats, from measurement_series: the Observations' own values (valueQuantity
 * in its normalised unit, or valueInteger) and their components' (a series per component code), in one range of the
 * (patient, system, code, at) index — where the search path probed four index tables per reading. Columns as
 * stats.ts's branches: g, csys, ccode, unit, bucket, value. Entered-in-error readings are left out, as there.
 */
export function seriesStatsBranch(
  ctx: RepoContext,
  q: StatsQuery,
  patientId: string,
  coding: SeriesCoding,
  g: number,
  bucket: Sql
): Sql {
  const range = sql`${q.start ? sql`AND s.at >= ${q.start}` : sql``} ${q.end ? sql`AND s.at < ${q.end}` : sql``}`;
  return sql`SELECT ${g}::int AS g, NULLIF(s.comp_system, '') AS csys, s.comp_code AS ccode, s.unit AS unit,
      ${bucket} AS bucket, s.value AS value
    FROM measurement_series s
    WHERE ${seriesWhere(ctx, patientId, coding)} ${range}
      AND s.value IS NOT NULL AND s.status IS DISTINCT FROM 'entered-in-error'`;
}
