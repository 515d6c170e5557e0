import type { Queryable } from './database';
import { sql } from './sql';

/**
 * What Hale keeps in Redis (rate-limit counters, the access cache's generation, the bots' queues) goes under
 * `hale:{<database>}`: deployments, and test databases, sharing one Redis neither throttle, invalidate nor take
 * each other's jobs.
 */
export async function redisNamespace(db: Queryable): Promise<string> {
  const [row] = await db.query<{ name: string }>(sql`SELECT current_database() AS name`);
  return row?.name ?? 'hale';
}
