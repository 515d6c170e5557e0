import type { Queryable } from '../db/database';
import type { Sql } from '../db/sql';
import { join, sql } from '../db/sql';

/** A picked Observation of a $lastn group. */
export interface LastnRow {
  g: number;
  rid: string;
  type: string;
  id: string;
  content: string;
}

/**
 * The resources the groups' branches pick (each `(SELECT g, rid, at … FETCH FIRST … WITH TIES)`), in group order,
 * newest first. The branches pick rids by their sort key only; the content of the few picked is read once, after.
 */
export function pickedRows(db: Queryable, branches: readonly Sql[]): Promise<LastnRow[]> {
  return db.query<LastnRow>(
    sql`SELECT x.g, r.rid, r.type, r.id, r.content FROM (${join(branches, ' UNION ALL ')}) x
      JOIN resource r ON r.rid = x.rid ORDER BY x.g, x.at DESC, x.rid DESC`
  );
}
