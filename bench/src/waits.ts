/**
 * What Hale's PostgreSQL backends are doing, sampled from pg_stat_activity twice a second: running,
 * waiting on a lock, on WAL, or idle inside a transaction (waiting for Hale's next statement).
 * Averaged over a phase, it says where the time of a slow ingest goes.
 */
import pg from 'pg';

export interface WaitShare {
  /** e.g. "running", "Lock:advisory", "IO:WALSync", "idle in transaction" */
  readonly state: string;
  /** Mean number of Hale's backends in that state. */
  readonly backends: number;
}

const QUERY = `SELECT CASE
    WHEN state = 'active' AND wait_event IS NULL THEN 'running'
    WHEN state = 'active' THEN wait_event_type || ':' || wait_event
    ELSE state END AS state, count(*)::int AS n
  FROM pg_stat_activity WHERE datname = $1 AND application_name = 'hale' GROUP BY 1`;

export class WaitSampler {
  private client: pg.Client | undefined;
  private timer: NodeJS.Timeout | undefined;
  private pending: Promise<void> = Promise.resolve();
  private samples = 0;
  private readonly totals = new Map<string, number>();

  constructor(
    private readonly adminUrl: string,
    private readonly database: string
  ) {}

  async start(intervalMs = 500): Promise<void> {
    this.client = new pg.Client({ connectionString: this.adminUrl, application_name: 'hale-bench' });
    await this.client.connect();
    this.samples = 0;
    this.totals.clear();
    this.timer = setInterval(() => {
      this.pending = this.pending.then(() => this.take());
    }, intervalMs);
  }

  private async take(): Promise<void> {
    const { rows } = (await this.client?.query<{ state: string; n: number }>(QUERY, [this.database])) ?? { rows: [] };
    this.samples++;
    for (const row of rows) {
      this.totals.set(row.state, (this.totals.get(row.state) ?? 0) + row.n);
    }
  }

  /** Mean backends per state, busiest first; idle connections (not in a transaction) are left out. */
  async stop(): Promise<WaitShare[]> {
    clearInterval(this.timer);
    await this.pending;
    await this.client?.end();
    const samples = Math.max(1, this.samples);
    return [...this.totals]
      .filter(([state]) => state !== 'idle')
      .map(([state, total]) => ({ state, backends: total / samples }))
      .sort((a, b) => b.backends - a.backends);
  }
}
