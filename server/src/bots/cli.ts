import type { Bot, Extension, Subscription } from '@medplum/fhirtypes';
import { build } from 'esbuild';
import { basename, extname, resolve } from 'node:path';
import pino from 'pino';
import type { HaleConfig } from '../config';
import { loadConfig } from '../config';
import type { Database } from '../db/database';
import { createLogger } from '../logger';
import { openDatabase } from '../server';
import { systemAccess } from '../storage/access';
import { HaleRepository } from '../storage/repository';
import { BOT_ACCESS_URL } from './bot-token';
import { deployCode } from './deploy';
import type { Interaction } from './subscription-model';
import { MAX_COUNT_URL, SUPPORTED_INTERACTION_URL, declaredMaxCount } from './subscription-model';

export const BOT_USAGE = `  bot deploy <file.ts|file.js>             bundle a bot (esbuild, CommonJS) and deploy it: creates or updates the
      [--name <name>]                      Bot named by --name (default: the file name), sets its access scopes
      [--scope "<system/ scopes>"]         (--scope, default: none), its schedule (--cron), and an active
      [--subscribe "<FHIR search>"]…       rest-hook Subscription to it for each --subscribe criteria; prints JSON
      [--cron "<cron expression>"]
  bot install [--manifest <bots.json>]     deploy every bot of the manifest (default: bots/bots.json) with its
      [--secret NAME=value]…               scopes, Subscriptions, schedule and secrets, then store the default
                                           clinical rules; running it again changes nothing that is the same
`;

const NAME_SYSTEM = 'https://hale.health/fhir/sid/bot-name';

/** The bot's source bundled into one CommonJS file, as Medplum's own deploy does (no Node built-ins). */
export async function bundleBot(file: string): Promise<string> {
  const result = await build({
    entryPoints: [file],
    bundle: true,
    format: 'cjs',
    platform: 'neutral',
    mainFields: ['module', 'main'],
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  });
  const out = result.outputFiles[0];
  if (!out) {
    throw new Error(`esbuild produced nothing for ${file}`);
  }
  return out.text;
}

export function options(argv: string[], name: string): string[] {
  const out: string[] = [];
  argv.forEach((a, i) => {
    if (a === `--${name}` && argv[i + 1] !== undefined) {
      out.push(argv[i + 1] as string);
    }
  });
  return out;
}

/** A path as the operator typed it: `npm run hale` runs in server/, npm's INIT_CWD is where they were. */
export function operatorPath(path: string): string {
  return resolve(process.env.INIT_CWD ?? process.cwd(), path);
}

export async function runBotCommand(argv: string[]): Promise<number | undefined> {
  const [command, sub, file] = argv;
  if (command !== 'bot') {
    return undefined;
  }
  if (sub === 'install') {
    // Loaded on demand: install.ts builds on this file's functions.
    const { runInstallCommand } = await import('./install');
    return runInstallCommand(argv.slice(2));
  }
  if (sub !== 'deploy' || !file) {
    process.stderr.write(`Usage:\n${BOT_USAGE}`);
    return 2;
  }
  const name = options(argv, 'name')[0] ?? basename(file, extname(file));
  const code = await bundleBot(operatorPath(file));
  return withSystemRepository(async (repo) => {
    const { bot } = await upsertBot(repo, name, {
      scope: options(argv, 'scope')[0],
      cron: options(argv, 'cron')[0],
    });
    const deployed = await deployCode(repo, bot.id, code, `${name}.js`);
    const subscriptions: string[] = [];
    for (const criteria of options(argv, 'subscribe')) {
      subscriptions.push((await ensureSubscription(repo, bot.id, criteria)).id);
    }
    process.stdout.write(
      JSON.stringify({ bot: bot.id, name, bytes: code.length, code: deployed.executableCode?.url, subscriptions }) +
        '\n'
    );
    return 0;
  });
}

/** Opens the configured database (migrated), runs fn with a system repository on it, and closes everything. */
export async function withSystemRepository<T>(
  fn: (repo: HaleRepository, db: Database, config: HaleConfig) => Promise<T>
): Promise<T> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel, pino.destination(2));
  const { db, embedded, searchParams } = await openDatabase(config, logger);
  try {
    const repo = new HaleRepository({
      db,
      access: systemAccess,
      searchParams,
      baseUrl: config.fhirBaseUrl,
      validate: true,
    });
    return await fn(repo, db, config);
  } finally {
    await db.close();
    await embedded?.stop();
  }
}

export async function findBot(repo: HaleRepository, name: string): Promise<(Bot & { id: string }) | undefined> {
  const found = await repo.search<Bot>({
    resourceType: 'Bot',
    filters: [{ code: 'identifier', operator: 'eq', value: `${NAME_SYSTEM}|${name}` }],
    count: 1,
  });
  return found.entry?.[0]?.resource;
}

/**
 * Creates or updates the Bot named `name` (identifier bot-name), with these access scopes (none: no
 * token at all) and schedule. `cron: null` removes a schedule; undefined keeps the stored one. A Bot
 * that already is as asked is not written again.
 */
export async function upsertBot(
  repo: HaleRepository,
  name: string,
  o: { scope?: string; cron?: string | null }
): Promise<{ bot: Bot & { id: string }; created: boolean; updated: boolean }> {
  const existing = await findBot(repo, name);
  const extension: Extension[] = (existing?.extension ?? []).filter((e) => e.url !== BOT_ACCESS_URL);
  if (o.scope) {
    extension.push({ url: BOT_ACCESS_URL, valueString: o.scope });
  }
  const { cronString: storedCron, ...rest } = existing ?? {};
  const cronString = o.cron === undefined ? storedCron : (o.cron ?? undefined);
  const bot: Bot = {
    ...rest,
    resourceType: 'Bot',
    name,
    identifier: [{ system: NAME_SYSTEM, value: name }],
    runtimeVersion: 'vmcontext',
    ...(extension.length > 0 ? { extension } : { extension: undefined }),
    ...(cronString ? { cronString } : {}),
  };
  if (existing?.id) {
    if (sameBot(existing, bot)) {
      return { bot: existing, created: false, updated: false };
    }
    return { bot: await repo.updateResource(bot), created: false, updated: true };
  }
  return { bot: await repo.createResource(bot), created: true, updated: false };
}

const BOT_FIELDS = ['name', 'identifier', 'runtimeVersion', 'extension', 'cronString'] as const;

function sameBot(stored: Bot, wanted: Bot): boolean {
  return BOT_FIELDS.every((f) => JSON.stringify(stored[f] ?? null) === JSON.stringify(wanted[f] ?? null));
}

/** The interactions a Subscription is limited to (Medplum's extension), sorted; empty: all of them. */
export function interactionsOf(sub: Subscription): string[] {
  return (sub.extension ?? [])
    .filter((e) => e.url === SUPPORTED_INTERACTION_URL && typeof e.valueCode === 'string')
    .map((e) => e.valueCode as string)
    .sort();
}

/** The Subscriptions whose channel is this Bot (any status). */
export async function subscriptionsTo(repo: HaleRepository, botId: string): Promise<Subscription[]> {
  const found = await repo.search<Subscription>({
    resourceType: 'Subscription',
    filters: [{ code: 'url', operator: 'eq', value: `Bot/${botId}` }],
    count: 1000,
  });
  return (found.entry ?? []).flatMap((e) => (e.resource ? [e.resource] : []));
}

/**
 * Makes sure an active rest-hook Subscription to the Bot has these criteria (and, when given, is
 * limited to these interactions and batches up to `maxCount` events a run): an inactive one that
 * matches is switched back on.
 */
export async function ensureSubscription(
  repo: HaleRepository,
  botId: string,
  criteria: string,
  interactions: readonly Interaction[] = [],
  maxCount = 1
): Promise<{ id: string; created: boolean; updated: boolean }> {
  const wanted = [...interactions].sort();
  const candidates = (await subscriptionsTo(repo, botId)).filter(
    (s) =>
      s.criteria === criteria &&
      JSON.stringify(interactionsOf(s)) === JSON.stringify(wanted) &&
      (declaredMaxCount(s) ?? 1) === maxCount
  );
  const same = candidates.find((s) => s.status === 'active') ?? candidates[0];
  if (same?.id && same.status === 'active') {
    return { id: same.id, created: false, updated: false };
  }
  if (same?.id) {
    const on = await repo.updateResource<Subscription>({ ...same, status: 'active' });
    return { id: on.id, created: false, updated: true };
  }
  const created = await repo.createResource<Subscription>({
    resourceType: 'Subscription',
    status: 'active',
    reason: `Runs Bot/${botId}`,
    criteria,
    channel: {
      type: 'rest-hook',
      endpoint: `Bot/${botId}`,
      ...(maxCount > 1 ? { extension: [{ url: MAX_COUNT_URL, valuePositiveInt: maxCount }] } : {}),
    },
    ...(wanted.length > 0 ? { extension: wanted.map((c) => ({ url: SUPPORTED_INTERACTION_URL, valueCode: c })) } : {}),
  });
  return { id: created.id, created: true, updated: false };
}
