/**
 * CPU time of Hale's process, of its bot workers, of the PostgreSQL backends serving it and of the bench itself over
 * a span of wall time, read from /proc: says which side a throughput figure is bound by.
 */
import { readFileSync, readdirSync } from 'node:fs';
import pg from 'pg';

const CLOCK_TICKS = 100; // USER_HZ on Linux

/** utime + stime of a process, in seconds (0 once it has gone). */
export function processCpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // After "pid (comm) ", field 3 (state) is index 0: utime and stime are fields 14 and 15.
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return 0;
  }
}

/** Hale's bot worker processes (sandbox/worker.ts, forked on first use), from /proc/<pid>/task/<tid>/children. */
export function botWorkerPids(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`)
      .flatMap((tid) => readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').split(' '))
      .filter((child) => child.trim() !== '')
      .map(Number)
      .filter((child) => readFileSync(`/proc/${child}/cmdline`, 'utf8').includes('sandbox/worker'));
  } catch {
    return [];
  }
}

export interface CpuShare {
  /** Percent of one core, averaged over the span. */
  readonly halePct: number;
  /** Hale's bot worker processes alive at the end of the span. */
  readonly workersPct: number;
  readonly postgresPct: number;
  readonly benchPct: number;
}

interface Snapshot {
  readonly wall: number;
  readonly hale: number;
  readonly workers: Map<number, number>;
  readonly backends: Map<number, number>;
  readonly bench: NodeJS.CpuUsage;
}

/** Measures the CPU of Hale and of its database's backends between start() and stop(). */
export class CpuMeter {
  private snapshot: Snapshot | undefined;

  constructor(
    private readonly adminUrl: string,
    private readonly database: string,
    private readonly halePid: number
  ) {}

  private async backends(): Promise<Map<number, number>> {
    const client = new pg.Client({ connectionString: this.adminUrl, application_name: 'hale-bench' });
    await client.connect();
    try {
      const { rows } = await client.query<{ pid: number }>(
        `SELECT pid FROM pg_stat_activity WHERE datname = $1 AND application_name = 'hale'`,
        [this.database]
      );
      return new Map(rows.map((r) => [r.pid, processCpuSeconds(r.pid)]));
    } finally {
      await client.end();
    }
  }

  async start(): Promise<void> {
    const backends = await this.backends();
    this.snapshot = {
      wall: performance.now(),
      hale: processCpuSeconds(this.halePid),
      workers: new Map(botWorkerPids(this.halePid).map((pid) => [pid, processCpuSeconds(pid)])),
      backends,
      bench: process.cpuUsage(),
    };
  }

  async stop(): Promise<CpuShare> {
    const before = this.snapshot;
    if (!before) {
      throw new Error('CpuMeter.stop() before start()');
    }
    const bench = process.cpuUsage(before.bench);
    const seconds = (performance.now() - before.wall) / 1000;
    const after = await this.backends();
    // A backend that connected during the span started from zero; one that left is not counted.
    let postgres = 0;
    for (const [pid, cpu] of after) {
      postgres += cpu - (before.backends.get(pid) ?? 0);
    }
    let workers = 0;
    for (const pid of botWorkerPids(this.halePid)) {
      // A worker forked during the span started from zero; one that was killed is not counted.
      workers += processCpuSeconds(pid) - (before.workers.get(pid) ?? 0);
    }
    const pct = (cpuSeconds: number): number => (cpuSeconds / seconds) * 100;
    return {
      halePct: pct(processCpuSeconds(this.halePid) - before.hale),
      workersPct: pct(workers),
      postgresPct: pct(postgres),
      benchPct: pct((bench.user + bench.system) / 1e6),
    };
  }
}
