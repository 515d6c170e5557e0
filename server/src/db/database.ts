import pg from 'pg';
import type { Sql } from './sql';

// Hale reads timestamps and bigints as text: ISO strings and ids go straight into FHIR JSON.
pg.types.setTypeParser(pg.types.builtins.TIMESTAMPTZ, (v) => v);
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => v);
pg.types.setTypeParser(pg.types.builtins.NUMERIC, (v) => v);

export interface Queryable {
  query<R = Record<string, unknown>>(q: Sql, name?: string): Promise<R[]>;
}

const RETRYABLE = new Set(['40001', '40P01']); // serialization failure, deadlock

export type Isolation = 'read committed' | 'repeatable read' | 'serializable';

class ClientQueryable implements Queryable {
  constructor(private readonly client: pg.PoolClient) {}
  async query<R>(q: Sql, name?: string): Promise<R[]> {
    const { text, values } = q.toQuery();
    const result = await this.client.query(name ? { name, text, values } : { text, values });
    return result.rows as R[];
  }
}

/** A PostgreSQL connection pool with transactions that retry on serialization failures. */
export class Database implements Queryable {
  readonly pool: pg.Pool;

  constructor(connectionString: string, max: number) {
    this.pool = new pg.Pool({ connectionString, max, application_name: 'hale' });
    // An idle client's error (e.g. the server restarting) must not crash the process.
    this.pool.on('error', () => undefined);
  }

  async query<R = Record<string, unknown>>(q: Sql, name?: string): Promise<R[]> {
    const { text, values } = q.toQuery();
    const result = await this.pool.query(name ? { name, text, values } : { text, values });
    return result.rows as R[];
  }

  /**
   * Runs fn in one transaction. Serialization failures and deadlocks re-run fn (up to 5 times),
   * so fn must be safe to repeat: it may only have effects through the transaction.
   */
  async transaction<T>(fn: (tx: Queryable) => Promise<T>, isolation: Isolation = 'read committed'): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const client = await this.pool.connect();
      try {
        await client.query(`BEGIN ISOLATION LEVEL ${isolation.toUpperCase()}`);
        const result = await fn(new ClientQueryable(client));
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        const code = (err as { code?: string }).code;
        if (code && RETRYABLE.has(code) && attempt < 5) {
          continue;
        }
        throw err;
      } finally {
        client.release();
      }
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
