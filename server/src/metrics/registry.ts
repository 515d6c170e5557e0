import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Database } from '../db/database';
import { sql } from '../db/sql';

/** Job tables whose backlog operators watch, by the states that are not finished. */
const BACKLOG = {
  bot_job: ['pending', 'queued', 'running', 'dead'],
  bulk_export: ['pending', 'running'],
  bulk_import: ['pending', 'running'],
} as const;

/**
 * Hale's Prometheus metrics, one registry per server (tests run several in one process; the default global
 * registry would refuse the second set). Labels are closed sets only: route templates, methods, statuses,
 * pool and job states; no ids, no query strings, no people.
 */
export class HaleMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: 'hale_http_requests_total',
    help: 'HTTP requests answered, by method, route template and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });
  readonly duration = new Histogram({
    name: 'hale_http_request_duration_seconds',
    help: 'Time from receiving a request to the end of its answer, by method and route template',
    labelNames: ['method', 'route'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });

  constructor(db: Database) {
    collectDefaultMetrics({ register: this.registry });
    const pool = db.pool;
    new Gauge({
      name: 'hale_db_pool_connections',
      help: 'PostgreSQL pool connections: total open, idle, and requests waiting for one',
      labelNames: ['state'] as const,
      registers: [this.registry],
      collect() {
        this.set({ state: 'total' }, pool.totalCount);
        this.set({ state: 'idle' }, pool.idleCount);
        this.set({ state: 'waiting' }, pool.waitingCount);
      },
    });
    new Gauge({
      name: 'hale_db_pool_max',
      help: 'The PostgreSQL pool size (DATABASE_POOL_SIZE)',
      registers: [this.registry],
      collect() {
        this.set(pool.options.max ?? 0);
      },
    });
    // One query per scrape feeds both gauges below (the registry collects them concurrently).
    let sampling: Promise<Backlog | undefined> | undefined;
    const sample = (): Promise<Backlog | undefined> => {
      if (!sampling) {
        const started = backlog(db).catch(() => undefined);
        sampling = started;
        void started.finally(() => {
          sampling = undefined;
        });
      }
      return sampling;
    };
    new Gauge({
      name: 'hale_database_up',
      help: '1 when this scrape could query PostgreSQL, 0 when it could not',
      registers: [this.registry],
      async collect() {
        this.set((await sample()) ? 1 : 0);
      },
    });
    new Gauge({
      name: 'hale_jobs',
      help: 'Unfinished background jobs by queue (bot_job: the subscription/cron outbox; bulk_export, bulk_import) and state',
      labelNames: ['queue', 'state'] as const,
      registers: [this.registry],
      async collect() {
        // Left empty when the database cannot answer: the scrape still goes out (process and pool figures
        // matter most during an outage) and hale_database_up says why these are missing.
        this.reset();
        for (const [queue, count] of (await sample()) ?? []) {
          for (const state of BACKLOG[queue]) {
            this.set({ queue, state }, count.get(state) ?? 0);
          }
        }
      },
    });
  }

  /** The exposition text and its content type. */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

type Queue = keyof typeof BACKLOG;
type Backlog = Map<Queue, Map<string, number>>;

async function backlog(db: Database): Promise<Backlog> {
  // Partial indexes cover these states (bot_job) or the tables stay small (finished exports are pruned).
  const rows = await db.query<{ queue: Queue; state: string; n: string }>(sql`
    SELECT 'bot_job' AS queue, state, count(*) AS n FROM bot_job WHERE state IN ('pending', 'queued', 'running', 'dead') GROUP BY state
    UNION ALL
    SELECT 'bulk_export', state, count(*) FROM bulk_export WHERE state IN ('pending', 'running') GROUP BY state
    UNION ALL
    SELECT 'bulk_import', state, count(*) FROM bulk_import WHERE state IN ('pending', 'running') GROUP BY state`);
  const out: Backlog = new Map(Object.keys(BACKLOG).map((q) => [q as Queue, new Map()]));
  for (const row of rows) {
    out.get(row.queue)?.set(row.state, Number(row.n));
  }
  return out;
}
