/**
 * The Bulk Data phase on its own (bulk.ts), on a fresh database: Hale started as `npm start`
 * would, the raw INSERT floor measured in a scratch database of the same server, then `$import` of
 * the generated patients and a system `$export` of them against the COPY floor.
 *
 *   npx tsx bench/src/bulk-main.ts [--patients=400] [--concurrency=2] [--prof]
 *
 * `--prof` runs Hale with `--cpu-prof` and prints the CPU profile summary of the export (cpu-profile.ts).
 */
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { bulkLines, bulkPhase } from './bulk';
import { renderProfile, summarizeProfile } from './cpu-profile';
import { buildDataset } from './dataset';
import { measureFloor } from './floor';
import { createDatabase, databaseUrl, dropDatabase } from './postgres';
import { REPO_ROOT, startHale } from './server-process';

const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

function flag(name: string, fallback: string): string {
  const hit = process.argv.slice(2).find((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  return hit === undefined ? fallback : hit.includes('=') ? hit.slice(name.length + 3) : 'true';
}

async function main(): Promise<void> {
  const patients = Number(flag('patients', '400'));
  const prof = flag('prof', 'false') === 'true';
  const pgUrl = (process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432').replace(/\/+$/, '');
  const workDir = join(REPO_ROOT, 'bench/out/bulk', String(Date.now()));
  mkdirSync(workDir, { recursive: true });
  const name = `hale_bulk_${process.pid}`;
  const data = buildDataset(1, patients, 'inline');
  log(
    `${data.resources} resources for ${patients} patients; load ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`
  );
  await createDatabase(pgUrl, `${name}_floor`);
  const floor = await measureFloor(databaseUrl(pgUrl, `${name}_floor`), data, {
    batch: 500,
    lookups: 100,
    searches: 30,
  });
  await dropDatabase(pgUrl, `${name}_floor`);
  log(`INSERT floor: ${Math.round(floor.rowsPerSecond)} rows/s`);
  await createDatabase(pgUrl, name);
  try {
    const url = databaseUrl(pgUrl, name);
    const hale = await startHale(url, {
      nodeArgs: prof ? ['--cpu-prof', `--cpu-prof-dir=${workDir}`] : [],
      env: { GRAPHQL_WARMUP: 'false', BULK_DIR: join(workDir, 'files'), BULK_MIN_POLL_MS: '0' },
    });
    let window: { from: number; to: number } | undefined;
    try {
      const result = await bulkPhase({
        target: { fhirBase: hale.fhirBase, token: hale.token },
        halePid: hale.pid,
        databaseUrl: url,
        data,
        insertFloor: floor.rowsPerSecond,
        concurrency: Number(flag('concurrency', '2')),
        log,
      });
      window = result.exportWindow;
      process.stdout.write(`${bulkLines(result).join('\n')}\n`);
      log(
        `load at the end ${loadavg()
          .map((l) => l.toFixed(2))
          .join(' ')}`
      );
    } catch (err) {
      log(`Hale's last stderr lines:\n${hale.stderrTail()}`);
      throw err;
    } finally {
      await hale.stop();
    }
    const [file] = readdirSync(workDir).filter((n) => n.endsWith('.cpuprofile'));
    if (file) {
      process.stdout.write(`${renderProfile(summarizeProfile(join(workDir, file), window), 45)}\n`);
    }
  } finally {
    await dropDatabase(pgUrl, name);
    rmSync(join(workDir, 'files'), { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  log(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exit(1);
});
