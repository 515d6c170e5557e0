import { startEmbeddedPostgres } from './embedded';

/**
 * Runs an embedded PostgreSQL (PGlite) in its own process and prints its connection string.
 * The test harness uses it when no TEST_DATABASE_URL is set: jest's module sandbox cannot load
 * PGlite's WebAssembly modules, a plain Node process can. Stops on SIGTERM or when stdin closes.
 *   node --import tsx server/src/db/embedded-serve.ts <data-dir>
 */
async function main(): Promise<void> {
  const dir = process.argv[2];
  if (!dir) {
    process.stderr.write('usage: embedded-serve <data-dir>\n');
    process.exit(2);
  }
  const embedded = await startEmbeddedPostgres(dir);
  process.stdout.write(`ready ${embedded.connectionString}\n`);
  const stop = (): void => {
    embedded.stop().then(
      () => process.exit(0),
      () => process.exit(1)
    );
  };
  process.once('SIGTERM', stop);
  process.stdin.on('close', stop);
  process.stdin.resume();
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
