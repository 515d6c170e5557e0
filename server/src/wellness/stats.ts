import type { Filter } from '@medplum/core';
import { Operator } from '@medplum/core';
import type { Coding } from '@medplum/fhirtypes';
import type { Queryable } from '../db/database';
import type { Sql } from '../db/sql';
import { join, sql } from '../db/sql';
import type { RepoContext } from '../storage/context';
import { compileSearchWhere } from '../storage/search';
import { tokenMatch } from '../storage/search/token';
import { splitEscaped, unescape } from '../storage/search/values';
import { measurementOfToken } from './measurements';
import { seriesStatsBranches } from './series-stats';
import type { SeriesCoding } from './series-where';
import { seriesCodingOf, seriesPatientOf } from './series-where';

export type Interval = 'day' | 'week' | 'month';
/** to_char's pattern for an instant in UTC, as JavaScript's toISOString writes it. */
const ISO = 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"';
export const STATISTICS = ['count', 'minimum', 'maximum', 'average', 'median'] as const;
export type Statistic = (typeof STATISTICS)[number];

export interface StatsQuery {
  /** Whom: the patient filter (patient=… or subject=Patient/…), as a search filter. */
  subject: Filter;
  /** The code tokens (`system|code` or `code`), one series (or more, with components) each. */
  codes: string[];
  /** Bounds on the effective time as SQL timestamptz expressions (start inclusive, end exclusive). */
  start?: Sql;
  end?: Sql;
  interval?: Interval;
  /** IANA time zone the buckets are days, weeks and months of. */
  timezone: string;
}

export interface Series {
  /** The requested code the series answers. */
  code: Coding;
  /** Set for the series of a component of the requested code's Observations (systolic of a blood pressure). */
  component?: Coding;
  /** UCUM unit of the values (absent for valueInteger, e.g. mood). */
  unit?: string;
  /** The bucket, when an interval was asked for. */
  bucket?: { start: string; end: string };
  count: number;
  minimum: number;
  maximum: number;
  average: number;
  median: number;
}

interface Row {
  g: number;
  csys: string | null;
  ccode: string | null;
  unit: string | null;
  bucket_start: string | null;
  bucket_end: string | null;
  n: string;
  minimum: string;
  maximum: string;
  average: string;
  median: string;
}

/**
 * Observation/$stats as one SQL statement: for each requested code C, the values of the Observations coded C
 * (valueQuantity, or valueInteger for measurements Hale stores so), of their components (a series per component
 * code), and of components coded C in other Observations (the R4 operation's reading of `code`), aggregated per
 * series, unit and bucket. Every branch is the ordinary search WHERE (the patient, the code, not
 * entered-in-error, and the caller's access filter), so Consent limits the statistics exactly as it limits a
 * search: a provider sees statistics over the shared readings only. Values come from the index tables
 * (idx_quantity, idx_date), not the JSON: the units there are the normalised ones.
 */
export async function observationStats(db: Queryable, ctx: RepoContext, q: StatsQuery): Promise<Series[]> {
  const ids = {
    date: spOf(ctx, 'date'),
    value: spOf(ctx, 'value-quantity'),
    components: spOf(ctx, 'component-code-value-quantity'),
  };
  const bucketOf = (at: Sql): Sql =>
    q.interval ? sql`date_trunc(${q.interval}, ${at} AT TIME ZONE ${q.timezone})` : sql`NULL::timestamp`;
  const bucket = bucketOf(sql`d.low`);
  const patientId = seriesPatientOf(q.subject);
  const codings = q.codes.map(seriesCodingOf);
  // The series index answers a patient's system|code series; anything else takes the search path.
  const series = patientId !== undefined && codings.every((c) => c !== undefined);
  const branches = q.codes.flatMap((code, g) =>
    series
      ? seriesStatsBranches(ctx, q, patientId, codings[g] as SeriesCoding, g, bucketOf)
      : branchesFor(ctx, q, ids, bucket, code, g)
  );
  const step = q.interval ? sql`${`1 ${q.interval}`}::interval` : sql`NULL::interval`;
  const rows = await db.query<Row>(sql`WITH v AS (${join(branches, ' UNION ALL ')})
    SELECT g, csys, ccode, unit, to_char(bucket AT TIME ZONE ${q.timezone} AT TIME ZONE 'UTC', ${ISO}) AS bucket_start,
      to_char((bucket + ${step}) AT TIME ZONE ${q.timezone} AT TIME ZONE 'UTC', ${ISO}) AS bucket_end, count(*) AS n,
      min(value) AS minimum, max(value) AS maximum, round(avg(value), 4) AS average,
      round((percentile_cont(0.5) WITHIN GROUP (ORDER BY value))::numeric, 4) AS median
    FROM v GROUP BY g, csys, ccode, unit, bucket
    ORDER BY g, csys NULLS FIRST, ccode NULLS FIRST, unit NULLS FIRST, bucket`);
  return rows.map((r) => toSeries(r, q.codes));
}

function branchesFor(ctx: RepoContext, q: StatsQuery, sp: Sps, bucket: Sql, code: string, g: number): Sql[] {
  const { where, range, dated } = searchParts(ctx, q, sp);
  const isCode: Filter = { code: 'code', operator: Operator.EQUALS, value: code };
  const [system, bare] = tokenParts(code);
  const measurement = measurementOfToken(system, bare);
  const integer = measurement?.value.kind === 'integer';
  // The Observation's own value.
  const own = integer
    ? sql`SELECT ${g}::int AS g, NULL::text AS csys, NULL::text AS ccode, NULL::text AS unit, ${bucket} AS bucket,
        iv.value ${dated} CROSS JOIN LATERAL (SELECT (r.content::json ->> 'valueInteger')::numeric AS value) iv
        WHERE ${where([isCode])} ${range} AND iv.value IS NOT NULL`
    : sql`SELECT ${g}::int AS g, NULL::text AS csys, NULL::text AS ccode, vq.code AS unit, ${bucket} AS bucket,
        vq.value ${dated} JOIN idx_quantity vq ON vq.rid = r.rid AND vq.sp = ${sp.value}
        WHERE ${where([isCode])} ${range}`;
  // Its components, a series per component code (systolic and diastolic of a blood pressure panel).
  const components = sql`SELECT ${g}::int, i.system, i.code, cq.code, ${bucket}, cq.value ${dated}
    JOIN idx_token i ON i.rid = r.rid AND i.sp = ${sp.components} AND i.code IS NOT NULL
    JOIN idx_quantity cq ON cq.rid = r.rid AND cq.sp = ${sp.components} AND cq.grp = i.grp
    WHERE ${where([isCode])} ${range}`;
  // A measurement whose profile has no components (heart rate, weight, …) skips the branch that would look for them.
  return measurement && !measurement.components
    ? [own, elsewhereBranch(ctx, q, sp, bucket, code, g)]
    : [own, components, elsewhereBranch(ctx, q, sp, bucket, code, g)];
}

type Sps = { date: number; value: number; components: number };

function searchParts(
  ctx: RepoContext,
  q: StatsQuery,
  sp: Sps
): { where: (f: Filter[]) => Sql; range: Sql; dated: Sql } {
  const status: Filter = { code: 'status', operator: Operator.NOT, value: 'entered-in-error' };
  return {
    where: (filters) =>
      compileSearchWhere(ctx, { resourceType: 'Observation', filters: [q.subject, status, ...filters] }).where,
    range: sql`${q.start ? sql`AND d.low >= ${q.start}` : sql``} ${q.end ? sql`AND d.low < ${q.end}` : sql``}`,
    dated: sql`FROM resource r JOIN idx_date d ON d.rid = r.rid AND d.sp = ${sp.date}`,
  };
}

/**
 * Components coded C in Observations with another code (a pulse recorded with a blood pressure). Searched through
 * the component-code index, which finds the few such Observations directly.
 */
function elsewhereBranch(ctx: RepoContext, q: StatsQuery, sp: Sps, bucket: Sql, code: string, g: number): Sql {
  const { where, range, dated } = searchParts(ctx, q, sp);
  return sql`SELECT ${g}::int, NULL::text, NULL::text, cq.code, ${bucket}, cq.value ${dated}
    JOIN idx_token i ON i.rid = r.rid AND i.sp = ${sp.components} AND ${tokenMatch(Operator.EQUALS, code)}
    JOIN idx_quantity cq ON cq.rid = r.rid AND cq.sp = ${sp.components} AND cq.grp = i.grp
    WHERE ${where([
      { code: 'component-code', operator: Operator.EQUALS, value: code },
      { code: 'code', operator: Operator.NOT, value: code },
    ])} ${range}`;
}

function spOf(ctx: RepoContext, code: string): number {
  const id = ctx.searchParams.id('Observation', code);
  if (id === undefined) {
    throw new Error(`Observation ${code} is not indexed`);
  }
  return id;
}

/** [system, code] of a token value; system undefined for a bare code. */
export function tokenParts(token: string): [string | undefined, string] {
  const parts = splitEscaped(token, '|').map(unescape);
  return parts.length === 2 ? [parts[0], parts[1] ?? ''] : [undefined, parts[0] ?? ''];
}

function codingOf(token: string): Coding {
  const [system, code] = tokenParts(token);
  return system ? { system, code } : { code };
}

function toSeries(r: Row, codes: readonly string[]): Series {
  return {
    code: codingOf(codes[r.g] ?? ''),
    ...(r.ccode !== null ? { component: r.csys ? { system: r.csys, code: r.ccode } : { code: r.ccode } } : {}),
    ...(r.unit !== null ? { unit: r.unit } : {}),
    ...(r.bucket_start && r.bucket_end ? { bucket: { start: r.bucket_start, end: r.bucket_end } } : {}),
    count: Number(r.n),
    minimum: Number(r.minimum),
    maximum: Number(r.maximum),
    average: Number(r.average),
    median: Number(r.median),
  };
}
