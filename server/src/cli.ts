import pino from 'pino';
import { createAdminAccount, listAccounts } from './auth/accounts';
import { OAUTH_USAGE, runOAuthCommand } from './auth/oauth/cli-commands';
import { BOT_USAGE, runBotCommand } from './bots/cli';
import { IMPORT_USAGE, runImportCommand } from './bulk/import/cli';
import { DEVICE_IMPORT_USAGE, runDeviceImportCommand } from './devices/cli';
import { loadConfig } from './config';
import { Database } from './db/database';
import { startEmbeddedPostgres } from './db/embedded';
import { migrate } from './db/migrate';
import { isResourceType } from './fhir/definitions';
import { Reindexer } from './jobs/reindex';
import { createLogger } from './logger';
import { openDatabase } from './server';

const USAGE = `Usage: npm run hale -- <command>

Commands:
  migrate                                  apply pending database migrations and exit
  admin create --email <e> --password <p>  create an active admin account (the first admin comes from here);
               [--password-stdin]          read the password from stdin instead (keeps it out of shell history)
  user list                                print every account as a JSON line (id, email, roles, status, verified)
  reindex [--type <ResourceType>]          rebuild the index rows of the types whose indexing changed (the server
          [--force]                        also does it, in the background); --force: even when unchanged. Prints
                                           a JSON summary; progress goes to stderr (docs/reindex.md)
${OAUTH_USAGE}${BOT_USAGE}${IMPORT_USAGE}${DEVICE_IMPORT_USAGE}
The database is DATABASE_URL, or the embedded one. Migrations run first.
`;

/** Opens the database, runs fn, closes everything. */
async function withDatabase<T>(fn: (db: Database) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const embedded = config.databaseUrl ? undefined : await startEmbeddedPostgres(config.embeddedDataDir);
  const db = new Database(config.databaseUrl ?? (embedded?.connectionString as string), 1);
  try {
    await db.detectServer();
    return await fn(db);
  } finally {
    await db.close();
    await embedded?.stop();
  }
}

function option(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) {
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

async function adminCreate(argv: string[]): Promise<number> {
  const email = option(argv, 'email');
  const password = argv.includes('--password-stdin') ? await readStdin() : option(argv, 'password');
  if (!email || !password) {
    process.stderr.write(USAGE);
    return 2;
  }
  const account = await withDatabase(async (db) => {
    await migrate(db);
    return createAdminAccount(db, email, password);
  });
  process.stdout.write(JSON.stringify({ id: account.id, email: account.email, roles: account.roles }) + '\n');
  return 0;
}

/** Reindexes now, waiting for a replica that is at it, with the server's configuration (its FHIR base URL). */
async function reindex(argv: string[]): Promise<number> {
  const type = option(argv, 'type');
  if (argv.includes('--type') && !type) {
    process.stderr.write(USAGE);
    return 2;
  }
  const config = loadConfig();
  const logger = createLogger(config.logLevel, pino.destination(2));
  const { db, embedded, searchParams } = await openDatabase(config, logger);
  try {
    if (type && !isResourceType(type)) {
      process.stderr.write(`Unknown resource type: ${type}\n`);
      return 2;
    }
    const reindexer = new Reindexer({ db, searchParams, baseUrl: config.fhirBaseUrl, logger });
    const summary = await reindexer.run({
      types: type ? [type] : undefined,
      force: argv.includes('--force'),
      wait: true,
    });
    process.stdout.write(JSON.stringify(summary) + '\n');
    return 0;
  } finally {
    await db.close();
    await embedded?.stop();
  }
}

async function run(argv: string[]): Promise<number> {
  const [command, sub] = argv;
  if (command === 'migrate') {
    const applied = await withDatabase((db) => migrate(db));
    process.stdout.write(JSON.stringify({ applied }) + '\n');
    return 0;
  }
  if (command === 'reindex') {
    return reindex(argv.slice(1));
  }
  if (command === 'admin' && sub === 'create') {
    return adminCreate(argv.slice(2));
  }
  if (command === 'user' && sub === 'list') {
    const accounts = await withDatabase(async (db) => {
      await migrate(db);
      return listAccounts(db);
    });
    process.stdout.write(accounts.map((a) => JSON.stringify(a) + '\n').join(''));
    return 0;
  }
  const deviceImport = await runDeviceImportCommand(argv);
  if (deviceImport !== undefined) {
    return deviceImport;
  }
  const imported = await runImportCommand(argv);
  if (imported !== undefined) {
    return imported;
  }
  const bot = await runBotCommand(argv);
  if (bot !== undefined) {
    return bot;
  }
  const oauth = await runOAuthCommand(argv);
  if (oauth !== undefined) {
    return oauth;
  }
  process.stderr.write(USAGE);
  return command ? 2 : 0;
}

run(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    // An OperationOutcomeError's message is its outcome's text (e.g. why a password was refused).
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`${message}\n`);
    process.exit(1);
  }
);
