/**
 * Where does ingest time go? Runs Hale with `--cpu-prof` on a scratch database, POSTs the seed's
 * transaction bundles (a share one at a time, the rest `concurrency` at a time, like the bench's
 * ingest), then prints the phases' throughput, CPU and backend states, the CPU profile summary
 * and — with `--pg-log=<file>`, when this user can read PostgreSQL's log — the server-side time
 * per statement (log_min_duration_statement=0 set on the scratch database only).
 *
 *   npx tsx bench/src/profile-ingest.ts --patients=50 --concurrency=4 [--serial-share=0.4] [--prof=false]
 *     [--pg-log=/var/log/postgresql/….log]
 *
 * Not part of `npm run bench`; a tool for working on the ingest path.
 */
import { closeSync, mkdirSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { renderProfile, summarizeProfile } from './cpu-profile';
import { CpuMeter } from './cpu';
import { buildDataset } from './dataset';
import { useBearerToken } from './http';
import { ingest, probeInlineTransactions } from './ingest';
import { createDatabase, databaseUrl, dropDatabase } from './postgres';
import { REPO_ROOT, startHale } from './server-process';
import { WaitSampler } from './waits';

const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

function flags(argv: readonly string[]): Map<string, string> {
  return new Map(
    argv.map((a) => {
      const m = /^--([a-z-]+)(?:=(.*))?$/.exec(a);
      if (!m?.[1]) {
        throw new Error(`Unknown argument ${a}`);
      }
      return [m[1], m[2] ?? 'true'];
    })
  );
}

function readFrom(path: string, offset: number): string {
  const size = statSync(path).size;
  const buf = Buffer.alloc(Math.max(0, size - offset));
  const fd = openSync(path, 'r');
  try {
    readSync(fd, buf, 0, buf.length, offset);
  } finally {
    closeSync(fd);
  }
  return buf.toString('utf8');
}

/** Server-side duration per statement kind, from log_min_duration_statement=0 lines of one database. */
function statementTimes(logText: string, database: string): string {
  const totals = new Map<string, { n: number; ms: number }>();
  const record =
    /^\S+ \S+ \S+ \[\d+\] \S*@(\S+) LOG: {2}duration: ([\d.]+) ms {2}(?:(parse|bind|execute) [^:]*|statement): ([^\n]*)/gm;
  for (const m of logText.matchAll(record)) {
    if (m[1] !== database) {
      continue;
    }
    const key = `${m[3] ?? 'simple'}: ${(m[4] ?? '').replace(/\$\d+/g, '$').replace(/\s+/g, ' ').slice(0, 90)}`;
    const t = totals.get(key) ?? { n: 0, ms: 0 };
    t.n++;
    t.ms += Number(m[2]);
    totals.set(key, t);
  }
  const rows = [...totals].sort((a, b) => b[1].ms - a[1].ms);
  const sum = rows.reduce((s, [, t]) => s + t.ms, 0);
  return [
    `PostgreSQL statement time (server side), total ${(sum / 1000).toFixed(1)} s:`,
    ...rows
      .slice(0, 25)
      .map(
        ([k, t]) =>
          `  ${(t.ms / 1000).toFixed(2).padStart(7)} s ${String(t.n).padStart(6)}× ${(t.ms / t.n).toFixed(2).padStart(8)} ms  ${k}`
      ),
  ].join('\n');
}

async function main(): Promise<void> {
  const f = flags(process.argv.slice(2));
  const patients = Number(f.get('patients') ?? 50);
  const concurrency = Number(f.get('concurrency') ?? 4);
  const serialShare = Number(f.get('serial-share') ?? 0.4);
  const pgUrl = (process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432').replace(/\/+$/, '');
  const pgLog = f.get('pg-log');
  const profDir = join(REPO_ROOT, f.get('prof-dir') ?? 'bench/out/profiles', String(Date.now()));
  mkdirSync(profDir, { recursive: true });
  const name = `hale_prof_${process.pid}`;
  await createDatabase(pgUrl, name);
  try {
    const url = databaseUrl(pgUrl, name);
    if (pgLog) {
      const admin = new pg.Client({ connectionString: databaseUrl(pgUrl, 'postgres') });
      await admin.connect();
      await admin.query(`ALTER DATABASE ${name} SET log_min_duration_statement = 0`);
      await admin.query(`ALTER DATABASE ${name} SET log_parameter_max_length = 0`);
      await admin.end();
    }
    const hale = await startHale(url, {
      nodeArgs: [
        ...(f.get('prof') === 'false' ? [] : ['--cpu-prof', `--cpu-prof-dir=${profDir}`]),
        ...(f.get('node-args')?.split(' ').filter(Boolean) ?? []),
      ],
      env: { GRAPHQL_WARMUP: process.env.GRAPHQL_WARMUP ?? 'false' },
    });
    useBearerToken(hale.token);
    let logOffset = 0;
    const span = { from: 0, to: 0 };
    const now = (): number => Number(process.hrtime.bigint() / 1000n);
    try {
      const probe = await probeInlineTransactions(hale.fhirBase, 1);
      const data = buildDataset(1, patients, probe.directory);
      log(`${data.resources} resources in ${patients} bundles (directory '${probe.directory}')`);
      logOffset = pgLog ? statSync(pgLog).size : 0;
      const adminUrl = databaseUrl(pgUrl, 'postgres');
      span.from = now();
      const result = await ingest(hale.fhirBase, hale.pid, data, probe, {
        serialShare,
        concurrency,
        warmupBundles: Number(f.get('warmup') ?? 0),
        meter: new CpuMeter(adminUrl, name, hale.pid),
        waits: new WaitSampler(adminUrl, name),
        log: () => undefined,
      });
      span.to = now();
      for (const p of result.phases) {
        const waits = p.waits.map((w) => `${w.state} ${w.backends.toFixed(2)}`).join(', ');
        log(
          `c=${p.concurrency}: ${p.bundles} bundles, ${Math.round(p.resourcesPerSecond)} res/s, bundle p50 ${p.bundleLatency.p50.toFixed(0)} ms; ` +
            `CPU Hale ${p.cpu.halePct.toFixed(0)}% PG ${p.cpu.postgresPct.toFixed(0)}% bench ${p.cpu.benchPct.toFixed(0)}%; ${waits}`
        );
      }
    } finally {
      await hale.stop();
    }
    const [file] = readdirSync(profDir).filter((n) => n.endsWith('.cpuprofile'));
    if (file) {
      log(`Profile: ${join(profDir, file)}`);
      process.stdout.write(
        `${renderProfile(summarizeProfile(join(profDir, file), span), Number(f.get('top') ?? 45))}\n`
      );
    }
    if (pgLog) {
      process.stdout.write(`\n${statementTimes(readFrom(pgLog, logOffset), name)}\n`);
    }
  } finally {
    await dropDatabase(pgUrl, name);
  }
}

main().catch((err: unknown) => {
  log(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exit(1);
});
