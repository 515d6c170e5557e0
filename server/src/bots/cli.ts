import type { Bot, Subscription } from '@medplum/fhirtypes';
import { build } from 'esbuild';
import { basename, extname } from 'node:path';
import pino from 'pino';
import { loadConfig } from '../config';
import { createLogger } from '../logger';
import { openDatabase } from '../server';
import { systemAccess } from '../storage/access';
import { HaleRepository } from '../storage/repository';
import { BOT_ACCESS_URL } from './bot-token';
import { deployCode } from './deploy';

export const BOT_USAGE = `  bot deploy <file.ts|file.js>             bundle a bot (esbuild, CommonJS) and deploy it: creates or updates the
      [--name <name>]                      Bot named by --name (default: the file name), sets its access scopes
      [--scope "<system/ scopes>"]         (--scope, default: none), its schedule (--cron), and an active
      [--subscribe "<FHIR search>"]…       rest-hook Subscription to it for each --subscribe criteria; prints JSON
      [--cron "<cron expression>"]
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

function options(argv: string[], name: string): string[] {
  const out: string[] = [];
  argv.forEach((a, i) => {
    if (a === `--${name}` && argv[i + 1] !== undefined) {
      out.push(argv[i + 1] as string);
    }
  });
  return out;
}

export async function runBotCommand(argv: string[]): Promise<number | undefined> {
  const [command, sub, file] = argv;
  if (command !== 'bot') {
    return undefined;
  }
  if (sub !== 'deploy' || !file) {
    process.stderr.write(`Usage:\n${BOT_USAGE}`);
    return 2;
  }
  const name = options(argv, 'name')[0] ?? basename(file, extname(file));
  const code = await bundleBot(file);
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
    const bot = await upsertBot(repo, name, {
      scope: options(argv, 'scope')[0],
      cron: options(argv, 'cron')[0],
    });
    const deployed = await deployCode(repo, bot.id, code, `${name}.js`);
    const subscriptions: string[] = [];
    for (const criteria of options(argv, 'subscribe')) {
      subscriptions.push(await ensureSubscription(repo, bot.id, criteria));
    }
    process.stdout.write(
      JSON.stringify({ bot: bot.id, name, bytes: code.length, code: deployed.executableCode?.url, subscriptions }) +
        '\n'
    );
    return 0;
  } finally {
    await db.close();
    await embedded?.stop();
  }
}

async function upsertBot(
  repo: HaleRepository,
  name: string,
  o: { scope?: string; cron?: string }
): Promise<Bot & { id: string }> {
  const found = await repo.search<Bot>({
    resourceType: 'Bot',
    filters: [{ code: 'identifier', operator: 'eq', value: `${NAME_SYSTEM}|${name}` }],
    count: 1,
  });
  const existing = found.entry?.[0]?.resource;
  const extension = (existing?.extension ?? []).filter((e) => e.url !== BOT_ACCESS_URL);
  if (o.scope) {
    extension.push({ url: BOT_ACCESS_URL, valueString: o.scope });
  }
  const bot: Bot = {
    ...existing,
    resourceType: 'Bot',
    name,
    identifier: [{ system: NAME_SYSTEM, value: name }],
    runtimeVersion: 'vmcontext',
    ...(extension.length > 0 ? { extension } : { extension: undefined }),
    ...(o.cron ? { cronString: o.cron } : {}),
  };
  const saved = existing?.id ? await repo.updateResource(bot) : await repo.createResource(bot);
  return saved;
}

async function ensureSubscription(repo: HaleRepository, botId: string, criteria: string): Promise<string> {
  const found = await repo.search<Subscription>({
    resourceType: 'Subscription',
    filters: [{ code: 'url', operator: 'eq', value: `Bot/${botId}` }],
    count: 100,
  });
  const same = (found.entry ?? [])
    .map((e) => e.resource)
    .find((s) => s?.criteria === criteria && s.status === 'active');
  if (same?.id) {
    return same.id;
  }
  const created = await repo.createResource<Subscription>({
    resourceType: 'Subscription',
    status: 'active',
    reason: `Runs Bot/${botId}`,
    criteria,
    channel: { type: 'rest-hook', endpoint: `Bot/${botId}` },
  });
  return created.id;
}
