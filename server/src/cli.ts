import { loadConfig } from './config';
import { Database } from './db/database';
import { startEmbeddedPostgres } from './db/embedded';
import { migrate } from './db/migrate';

const USAGE = `Usage: npm run hale -- <command>

Commands:
  migrate    apply pending database migrations (DATABASE_URL, or the embedded database) and exit
`;

async function run(argv: string[]): Promise<number> {
  const [command] = argv;
  if (command === 'migrate') {
    const config = loadConfig();
    const embedded = config.databaseUrl ? undefined : await startEmbeddedPostgres(config.embeddedDataDir);
    const db = new Database(config.databaseUrl ?? (embedded?.connectionString as string), 1);
    try {
      const applied = await migrate(db);
      process.stdout.write(JSON.stringify({ applied }) + '\n');
      return 0;
    } finally {
      await db.close();
      await embedded?.stop();
    }
  }
  process.stderr.write(USAGE);
  return command ? 2 : 0;
}

run(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
);
