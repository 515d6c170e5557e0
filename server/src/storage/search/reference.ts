import type { Sql } from '../../db/sql';
import { raw, sql } from '../../db/sql';

const RELATIVE = /^([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(\/_history\/.*)?$/;
const ID = /^[A-Za-z0-9\-.]{1,64}$/;

/** `x.sp = …`, and for a parameter narrowed by target type `AND x.target_type = …`, over idx_reference alias x. */
export function referenceRowTest(alias: string, rows: { sp: number; targetType?: string }): Sql {
  const sp = sql`${raw(alias)}.sp = ${rows.sp}`;
  return rows.targetType ? sql`${sp} AND ${raw(alias)}.target_type = ${rows.targetType}` : sp;
}

/** Predicate over an idx_reference row `i`: `Type/id`, a bare id (any type), or an absolute/canonical URL. */
export function referenceMatch(baseUrl: string, value: string): Sql {
  const local = value.startsWith(baseUrl + '/') ? value.slice(baseUrl.length + 1) : value;
  const m = RELATIVE.exec(local);
  if (m) {
    return sql`(i.target_type = ${m[1]} AND i.target_id = ${m[2]})`;
  }
  if (ID.test(local)) {
    return sql`i.target_id = ${local}`;
  }
  const bar = local.indexOf('|');
  return sql`i.url = ${bar >= 0 ? local.slice(0, bar) : local}`;
}
