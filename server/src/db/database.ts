import pg from 'pg';
import type { Sql } from './sql';
import { raw, sql } from './sql';
import { isConnectionError } from './connection-errors';
import { RidPool } from './rid-pool';

// Hale reads timestamps and bigints as text: ISO strings and ids go straight into FHIR JSON.
pg.types.setTypeParser(pg.types.builtins.TIMESTAMPTZ, (v) => v);
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => v);
pg.types.setTypeParser(pg.types.builtins.NUMERIC, (v) => v);

/** What the commit hooks learn of each resource version a transaction wrote. */
export interface WrittenVersion {
  readonly type: string;
  readonly id: string;
  readonly versionId: number;
  readonly deleted: boolean;
  /** True when it replaced a stored version (an update, or a delete of a stored resource). */
  readonly replaces: boolean;
}

export interface Queryable {
  query<R = Record<string, unknown>>(q: Sql, name?: string): Promise<R[]>;
  /** Inside a transaction: notes the resource versions written (see Database.onCommit and beforeCommit). */
  noteWritten?(versions: readonly WrittenVersion[]): void;
  /** `count` resource rids reserved for new rows, if that many are in hand (db/rid-pool.ts). */
  takeRids?(count: number): number[] | undefined;
}

/** Runs after a transaction that wrote resources has committed; the request waits for it. */
export type CommitListener = (resourceTypes: ReadonlySet<string>) => Promise<void> | void;

/**
 * Runs inside a transaction that wrote resources, just before its COMMIT, with the versions it
 * wrote: what it writes commits (or rolls back) with them. The subscription outbox is one.
 */
export type PreCommitHook = (tx: Queryable, written: readonly WrittenVersion[]) => Promise<void>;

const RETRYABLE = new Set(['40001', '40P01']); // serialization failure, deadlock

/** A transaction whose connection was lost before COMMIT runs again, after a short pause, this many times in all. */
const CONNECTION_ATTEMPTS = 3;
const CONNECTION_RETRY_MS = 100;

const CONNECT_TIMEOUT_MS = 10_000;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export type Isolation = 'read committed' | 'repeatable read' | 'serializable';

class ClientQueryable implements Queryable {
  readonly touched = new Set<string>();
  /** Kept only while a pre-commit hook is registered (bots), so plain ingest keeps no list. */
  readonly written: WrittenVersion[] | undefined;
  constructor(
    private readonly client: pg.PoolClient,
    private readonly named: boolean,
    private readonly rids: RidPool,
    keepWritten: boolean
  ) {
    this.written = keepWritten ? [] : undefined;
  }
  noteWritten(versions: readonly WrittenVersion[]): void {
    for (const v of versions) {
      this.touched.add(v.type);
      this.written?.push(v);
    }
  }
  takeRids(count: number): number[] | undefined {
    return this.rids.take(count);
  }
  async query<R>(q: Sql, name?: string): Promise<R[]> {
    const { text, values } = q.toQuery();
    const result = await this.client.query(name && this.named ? { name, text, values } : { text, values });
    return result.rows as R[];
  }
}

/** A PostgreSQL connection pool with transactions that retry on serialization failures. */
export class Database implements Queryable {
  readonly pool: pg.Pool;
  private readonly commitListeners: CommitListener[] = [];
  private readonly preCommitHooks: PreCommitHook[] = [];

  /** Off for PGlite (see detectServer) and behind PgBouncer. */
  private namedStatements: boolean;

  private readonly rids = new RidPool(async (count) => {
    const rows = await this.query<{ rid: string }>(
      sql`SELECT nextval(pg_get_serial_sequence('resource', 'rid')) AS rid FROM generate_series(1, ${count})`
    );
    return rows.map((r) => Number(r.rid));
  });

  /**
   * `statementTimeoutMs` bounds every statement (and every idle moment inside a transaction) of this pool's
   * sessions, so a request blocked behind a lock or a runaway query fails with 503 instead of holding a
   * connection for ever; migrations lift it for their own transactions. 0 sets none (PGlite's single session).
   *
   * Behind PgBouncer in transaction mode (`pooler: 'pgbouncer'`) a session is not Hale's: consecutive
   * statements may run on different server connections. So no statement is named (PgBouncer before 1.21 sends
   * a named statement's Bind to a connection that never saw its Parse), and the timeouts are not startup
   * parameters (PgBouncer refuses a connection that sends them): each transaction sets them with SET LOCAL in
   * its BEGIN round trip, and statements outside a transaction get the role's setting (sessionTimeoutUnset).
   */
  constructor(
    connectionString: string,
    max: number,
    private readonly statementTimeoutMs = 0,
    private readonly pooler: 'none' | 'pgbouncer' = 'none'
  ) {
    this.namedStatements = pooler === 'none';
    this.pool = new pg.Pool({
      connectionString,
      max,
      application_name: 'hale',
      // A server that does not answer at all (partition, hung host) fails the request instead of holding it.
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      keepAlive: true,
      ...(statementTimeoutMs > 0 && pooler === 'none'
        ? { statement_timeout: statementTimeoutMs, idle_in_transaction_session_timeout: statementTimeoutMs }
        : {}),
    });
    // An idle client's error (a terminated backend, a restart) must not crash the process: the pool
    // has already dropped that client, and the next request opens a new connection.
    this.pool.on('error', () => undefined);
  }

  /**
   * Registers work that must follow the commit of every transaction that wrote resources, before
   * the transaction's caller goes on (e.g. invalidating cached access decisions after a Consent
   * changed: doing it before the commit would let another request re-cache the old state).
   */
  onCommit(listener: CommitListener): void {
    this.commitListeners.push(listener);
  }

  /** Registers work that must commit with every transaction that wrote resources (see PreCommitHook). */
  beforeCommit(hook: PreCommitHook): void {
    this.preCommitHooks.push(hook);
  }

  async query<R = Record<string, unknown>>(q: Sql, name?: string): Promise<R[]> {
    const { text, values } = q.toQuery();
    const result = await this.pool.query(name && this.namedStatements ? { name, text, values } : { text, values });
    return result.rows as R[];
  }

  /**
   * Runs fn in one transaction. Serialization failures and deadlocks re-run fn (up to 5 times),
   * and so does a connection lost before COMMIT was sent (PostgreSQL rolls such a transaction
   * back), so fn must be safe to repeat: it may only have effects through the transaction. A
   * connection lost during COMMIT is not retried: whether it committed is unknown.
   */
  async transaction<T>(fn: (tx: Queryable) => Promise<T>, isolation: Isolation = 'read committed'): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      let commitSent = false;
      let done: { value: T; touched: ReadonlySet<string> };
      try {
        done = await this.withClient(async (client) => {
          const tx = new ClientQueryable(client, this.namedStatements, this.rids, this.preCommitHooks.length > 0);
          await client.query(this.beginStatement(isolation));
          const value = await fn(tx);
          if (tx.written?.length) {
            for (const hook of this.preCommitHooks) {
              await hook(tx, tx.written);
            }
          }
          commitSent = true;
          await client.query('COMMIT');
          return { value, touched: tx.touched };
        });
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (code && RETRYABLE.has(code) && attempt < 5) {
          continue;
        }
        if (isConnectionError(err) && !commitSent && attempt < CONNECTION_ATTEMPTS) {
          await sleep(CONNECTION_RETRY_MS * attempt);
          continue;
        }
        throw err;
      }
      if (done.touched.size > 0) {
        for (const listener of this.commitListeners) {
          await listener(done.touched);
        }
      }
      return done.value;
    }
  }

  /**
   * Holds one pool client for fn. A held client has no 'error' listener of the pool's, and an
   * 'error' event with no listener ends the process: so one is attached for as long as the client
   * is out, and a client whose connection failed is destroyed on release instead of going back
   * into the pool. On any other failure the transaction is rolled back before the client returns.
   */
  private async withClient<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    let broken: Error | undefined;
    const onError = (err: Error): void => {
      broken ??= err;
    };
    // The listener goes on inside the pool's callback, not after `await pool.connect()`: a new connection's
    // ReadyForQuery and a FATAL (a backend terminated at once) can arrive in one chunk, and the driver parses both
    // before any promise continuation runs, so the FATAL found a client with no listener and ended the process.
    const client = await new Promise<pg.PoolClient>((resolve, reject) => {
      this.pool.connect((err, connected) => {
        if (err || !connected) {
          reject(err ?? new Error('The pool gave no client'));
          return;
        }
        connected.on('error', onError);
        resolve(connected);
      });
    });
    try {
      return await fn(client);
    } catch (err) {
      if (!broken && isConnectionError(err)) {
        broken = err as Error;
      }
      if (!broken) {
        await client.query('ROLLBACK').catch((rollbackErr: unknown) => {
          broken = rollbackErr instanceof Error ? rollbackErr : new Error(String(rollbackErr));
        });
      }
      throw err;
    } finally {
      client.removeListener('error', onError);
      client.release(broken);
    }
  }

  /**
   * Looks at the server once at start: PGlite's socket loses the connection when a named
   * (prepared) statement fails, so there every query runs unnamed.
   */
  async detectServer(): Promise<void> {
    const [row] = await this.query<{ version: string }>(raw('SELECT version()'));
    this.namedStatements = this.pooler === 'none' && !(row?.version ?? '').includes('PGlite');
  }

  /**
   * Behind PgBouncer, whether statements outside a transaction run without the timeout Hale was asked for:
   * the server connections' statement_timeout comes from the role or database (ALTER ROLE … SET), not from Hale.
   */
  async sessionTimeoutUnset(): Promise<boolean> {
    if (this.pooler === 'none' || this.statementTimeoutMs === 0) {
      return false;
    }
    const [row] = await this.query<{ ms: string }>(sql`SELECT current_setting('statement_timeout') AS ms`);
    return (row?.ms ?? '0') === '0';
  }

  /** BEGIN, and behind PgBouncer the timeouts for this transaction, in one simple-protocol round trip. */
  private beginStatement(isolation: Isolation): string {
    const begin = `BEGIN ISOLATION LEVEL ${isolation.toUpperCase()}`;
    if (this.pooler === 'none' || this.statementTimeoutMs === 0) {
      return begin;
    }
    const ms = Math.trunc(this.statementTimeoutMs);
    return `${begin}; SET LOCAL statement_timeout = ${ms}; SET LOCAL idle_in_transaction_session_timeout = ${ms}`;
  }

  takeRids(count: number): number[] | undefined {
    return this.rids.take(count);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
