import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { ParseArgsOptionsConfig } from 'node:util';
import { loadConfig } from '../../config';
import { createLogger } from '../../logger';
import { openDatabase } from '../../server';
import { systemAccess } from '../../storage/access';
import { HaleRepository } from '../../storage/repository';
import { sql } from '../../db/sql';
import { findAccountByEmail } from '../accounts';
import type { AuthDeps } from '../deps';
import type { Account } from '../types';
import { RateLimits } from '../rate-limit';
import type { ClientInput } from './clients';
import { CLIENT_KINDS, ClientInputError, clientView, getClient, listClients, registerClient } from './clients';
import { pruneExpired } from './grants';
import { IssueError, issueAccessToken } from './issue';
import { canPickPatient, patientPickable } from './patients';

export const OAUTH_USAGE = `  client create --name <n> --type public|confidential-symmetric|confidential-asymmetric
                --scope "<allowed scopes>" [--redirect-uri <uri> ...]
                [--jwks-url <url> | --jwks-file <path>] [--launch-url <url>]
                                           register a SMART app; prints {client_id, client_secret (shown once)}
  client list                              print the registered apps as JSON lines
  token [--user <email>] --scope "<scopes>" [--patient <id>] [--client <id>] [--force]
                                           issue an access token as the token endpoint would (the built-in
                                           hale-cli client unless --client; without --user, system/ scopes only);
                                           --patient must be one the user could open at the authorize endpoint
                                           (their own record, or one shared with them), unless --force
  oauth prune                              delete expired codes, access-token records, assertion ids and launches
`;

/** The built-in client the `token` command issues for: usable by no HTTP flow (no redirect URIs, no grant types). */
const CLI_CLIENT = 'hale-cli';
const CLI_SCOPES = 'patient/*.cruds user/*.cruds system/*.cruds openid fhirUser profile launch/patient';

class UsageError extends Error {}

/** Runs an OAuth command; undefined when argv is not one of them. */
export async function runOAuthCommand(argv: string[]): Promise<number | undefined> {
  const [command, sub] = argv;
  const run =
    command === 'client' && sub === 'create'
      ? clientCreate
      : command === 'client' && sub === 'list'
        ? clientList
        : command === 'token'
          ? tokenCommand
          : command === 'oauth' && sub === 'prune'
            ? prune
            : undefined;
  if (!run) {
    return undefined;
  }
  try {
    const out = await withAuthDeps((deps) => run(deps, argv.slice(command === 'token' ? 1 : 2)));
    process.stdout.write(out);
    return 0;
  } catch (err) {
    if (err instanceof UsageError || err instanceof ClientInputError || err instanceof IssueError) {
      process.stderr.write(`${err.message}\n\nUsage: npm run hale -- <command>\n${OAUTH_USAGE}`);
      return 2;
    }
    throw err;
  }
}

/** Opens the database (migrating it) and builds the same AuthDeps the server has. Logs stay quiet: stdout is JSON. */
async function withAuthDeps<T>(fn: (deps: AuthDeps) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const logger = createLogger('silent');
  const { db, embedded, searchParams } = await openDatabase(config, logger);
  const deps: AuthDeps = {
    config,
    db,
    logger,
    redis: undefined,
    rateLimits: new RateLimits(undefined, config.authRateLimitPerMinute),
    systemRepository: () =>
      new HaleRepository({ db, access: systemAccess, searchParams, baseUrl: config.fhirBaseUrl, validate: true }),
  };
  try {
    return await fn(deps);
  } finally {
    await db.close();
    await embedded?.stop();
  }
}

function parse(args: string[], options: ParseArgsOptionsConfig): Record<string, unknown> {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false }).values;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

async function clientCreate(deps: AuthDeps, args: string[]): Promise<string> {
  const v = parse(args, {
    name: { type: 'string' },
    type: { type: 'string' },
    'redirect-uri': { type: 'string', multiple: true },
    scope: { type: 'string' },
    'jwks-url': { type: 'string' },
    'jwks-file': { type: 'string' },
    'launch-url': { type: 'string' },
  });
  if (typeof v.type !== 'string' || !(CLIENT_KINDS as readonly string[]).includes(v.type)) {
    throw new UsageError(`--type must be one of ${CLIENT_KINDS.join(', ')}`);
  }
  const jwksFile = v['jwks-file'] as string | undefined;
  const input = {
    name: v.name,
    type: v.type,
    redirect_uris: v['redirect-uri'] ?? [],
    scope: v.scope,
    jwks_uri: v['jwks-url'],
    jwks: jwksFile ? (JSON.parse(readFileSync(jwksFile, 'utf8')) as unknown) : undefined,
    launch_url: v['launch-url'],
  } as ClientInput;
  const { client, clientSecret } = await registerClient(deps.db, input);
  return JSON.stringify({ client_id: client.client_id, client_secret: clientSecret }) + '\n';
}

async function clientList(deps: AuthDeps): Promise<string> {
  return (await listClients(deps.db)).map((c) => JSON.stringify(clientView(c)) + '\n').join('');
}

async function tokenCommand(deps: AuthDeps, args: string[]): Promise<string> {
  const v = parse(args, {
    user: { type: 'string' },
    scope: { type: 'string' },
    patient: { type: 'string' },
    client: { type: 'string' },
    force: { type: 'boolean' },
  });
  if (typeof v.scope !== 'string') {
    throw new UsageError('--scope is required');
  }
  const account = typeof v.user === 'string' ? await findAccountByEmail(deps, v.user) : undefined;
  if (typeof v.user === 'string' && !account) {
    throw new IssueError(`no account with the email ${v.user}`);
  }
  const patient = v.patient as string | undefined;
  if (account && patient !== undefined && !(await mayOpenPatient(deps, account, patient))) {
    const what = `${account.email} may not open Patient/${patient} at the authorize endpoint: it is neither their own record nor shared with them`;
    if (v.force !== true) {
      throw new IssueError(`${what}. Pass --force to issue the token anyway.`);
    }
    process.stderr.write(`WARNING: --force: ${what}; the token is issued anyway and acts in that patient's context.\n`);
  }
  const clientId = typeof v.client === 'string' ? v.client : await ensureCliClient(deps);
  const token = await issueAccessToken(deps, {
    accountId: account?.id,
    clientId,
    scopes: v.scope.split(/\s+/).filter(Boolean),
    patient,
  });
  return JSON.stringify({ ...token, token_type: 'Bearer' }) + '\n';
}

/** The authorize endpoint's rule (code-issue.ts patientFor): a patient's own record; a provider's pick of those shared. */
async function mayOpenPatient(deps: AuthDeps, account: Account, patient: string): Promise<boolean> {
  if (account.profile?.type === 'Patient') {
    return account.profile.id === patient;
  }
  return canPickPatient(account) && (await patientPickable(deps, account, patient));
}

/** The CLI's own client (no grant types: only tokens issued in-process, by the CLI and the demo seed). */
export async function ensureCliClient(deps: AuthDeps): Promise<string> {
  const existing = await getClient(deps.db, CLI_CLIENT);
  if (existing?.disabled_at) {
    throw new IssueError(`the ${CLI_CLIENT} client was disabled; pass --client`);
  }
  if (!existing) {
    await deps.db.transaction(async (tx) => {
      await registerClient(tx, { name: 'Hale CLI', type: 'public', scope: CLI_SCOPES }, CLI_CLIENT);
      await tx.query(sql`UPDATE oauth_client SET grant_types = '{}' WHERE client_id = ${CLI_CLIENT}`);
    });
  }
  return CLI_CLIENT;
}

async function prune(deps: AuthDeps): Promise<string> {
  await pruneExpired(deps.db);
  return JSON.stringify({ pruned: true }) + '\n';
}
