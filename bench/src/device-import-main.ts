/**
 * The device-import phase on its own (device-import.ts), on a fresh database:
 *
 *   npx tsx bench/src/device-import-main.ts [--readings=500000]   (or BENCH_DEVICE_READINGS)
 */
import { loadavg } from 'node:os';
import { deviceImportLines, deviceImportPhase } from './device-import';
import { createDatabase, databaseUrl, dropDatabase } from './postgres';
import { startHale } from './server-process';

const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

function readingsOption(): number {
  const flag = process.argv.slice(2).find((a) => a.startsWith('--readings='));
  const raw = flag?.slice('--readings='.length) ?? process.env.BENCH_DEVICE_READINGS ?? '500000';
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new Error(`--readings must be a positive integer, got ${raw}`);
  }
  return n;
}

async function main(): Promise<void> {
  const readings = readingsOption();
  const pgUrl = (process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432').replace(/\/+$/, '');
  const name = `hale_device_${process.pid}`;
  await createDatabase(pgUrl, name);
  await createDatabase(pgUrl, `${name}_floor`);
  try {
    log(
      `load ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`
    );
    const hale = await startHale(databaseUrl(pgUrl, name), { env: { GRAPHQL_WARMUP: 'false' } });
    try {
      const result = await deviceImportPhase({
        target: { fhirBase: hale.fhirBase, token: hale.token },
        floorDatabaseUrl: databaseUrl(pgUrl, `${name}_floor`),
        readings,
        log,
      });
      process.stdout.write(`${deviceImportLines(result).join('\n')}\n`);
    } catch (err) {
      log(`Hale's last stderr lines:\n${hale.stderrTail()}`);
      throw err;
    } finally {
      await hale.stop();
    }
  } finally {
    await dropDatabase(pgUrl, `${name}_floor`);
    await dropDatabase(pgUrl, name);
  }
}

main().catch((err: unknown) => {
  log(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exit(1);
});
