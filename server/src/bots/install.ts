import type { Binary, Bot, PlanDefinition, Subscription } from '@medplum/fhirtypes';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { defaultRules } from '../../../bots/src/lib/rules/defaults';
import type { Database } from '../db/database';
import { sql } from '../db/sql';
import type { HaleRepository } from '../storage/repository';
import {
  BOT_USAGE,
  bundleBot,
  ensureSubscription,
  operatorPath,
  options,
  subscriptionsTo,
  upsertBot,
  withSystemRepository,
} from './cli';
import { deployCode } from './deploy';
import { MAX_BATCH } from './subscription-model';

/** The manifest of Hale's own bots, in the repository. */
export const DEFAULT_MANIFEST = join(__dirname, '../../../bots/bots.json');

const SECRET_NAME = /^[A-Za-z0-9_]{1,64}$/;

const manifestSchema = z.object({
  description: z.string().optional(),
  bots: z
    .array(
      z
        .object({
          name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/),
          /** Relative to the manifest. */
          file: z.string().min(1),
          /** `system/` SMART scopes: the bot-access of its own runs. */
          scopes: z.array(z.string().regex(/^system\/[A-Za-z*]+\.c?r?u?d?s?$/)),
          subscriptions: z
            .array(
              z.object({
                criteria: z.string().min(1),
                /** Medplum's subscription-supported-interaction; absent: create, update and delete. */
                interactions: z.array(z.enum(['create', 'update', 'delete'])).optional(),
                /** backport-max-count: up to this many events in one run (a history Bundle); absent: one. */
                maxCount: z.number().int().min(1).max(MAX_BATCH).optional(),
              })
            )
            .default([]),
          cron: z.string().optional(),
          /** The secrets the bot reads (all optional): `--secret NAME=value` sets them. */
          secrets: z.array(z.string().regex(SECRET_NAME)).default([]),
        })
        .strict()
    )
    .min(1),
});

export type BotManifest = z.infer<typeof manifestSchema>;
export type ManifestBot = BotManifest['bots'][number];

/** Reads and checks a manifest; bot files are made absolute (they are relative to the manifest). */
export function readManifest(path: string): BotManifest {
  const parsed = manifestSchema.safeParse(JSON.parse(readFileSync(path, 'utf8')));
  if (!parsed.success) {
    throw new Error(`${path} is not a bot manifest: ${z.prettifyError(parsed.error)}`);
  }
  const names = parsed.data.bots.map((b) => b.name);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice) {
    throw new Error(`${path} names the bot ${twice} twice`);
  }
  return { ...parsed.data, bots: parsed.data.bots.map((b) => ({ ...b, file: resolve(dirname(path), b.file) })) };
}

export interface InstalledBot {
  name: string;
  bot: string;
  /** created, updated (scopes, schedule) or unchanged: the Bot resource itself. */
  resource: 'created' | 'updated' | 'unchanged';
  /** deployed, or unchanged when the bundle is byte-for-byte the deployed code. */
  code: 'deployed' | 'unchanged';
  bytes: number;
  subscriptions: string[];
  /** Subscriptions to this Bot that the manifest no longer lists, switched off. */
  switchedOff: string[];
  secrets: string[];
}

export interface InstallReport {
  bots: InstalledBot[];
  rules: { url: string; id: string; created: boolean }[];
}

export interface InstallDeps {
  repo: HaleRepository;
  /** For the secrets, which live outside any resource (bot_secret). */
  db: Database;
}

/**
 * Deploys every bot of the manifest the way `bot deploy` does (bundle, Bot by name, code, scopes,
 * schedule, Subscriptions), makes the Bot's Subscriptions exactly the manifest's, sets the given
 * secrets the bot declares, and then stores the default clinical rules. Idempotent: what is already
 * as the manifest says is not written again.
 */
export async function installBots(
  deps: InstallDeps,
  manifest: BotManifest,
  secrets: Readonly<Record<string, string>> = {}
): Promise<InstallReport> {
  const declared = new Set(manifest.bots.flatMap((b) => b.secrets));
  const unknown = Object.keys(secrets).filter((name) => !declared.has(name));
  if (unknown.length > 0) {
    throw new Error(`no bot of the manifest reads the secret ${unknown.join(', ')}`);
  }
  const bots: InstalledBot[] = [];
  for (const entry of manifest.bots) {
    bots.push(await installBot(deps, entry, secrets));
  }
  return { bots, rules: await installDefaultRules(deps.repo) };
}

async function installBot(
  deps: InstallDeps,
  entry: ManifestBot,
  secrets: Readonly<Record<string, string>>
): Promise<InstalledBot> {
  const { repo } = deps;
  // Bundled first: a bot that does not build leaves its Bot as it was.
  const code = await bundleBot(entry.file);
  const { bot, created, updated } = await upsertBot(repo, entry.name, {
    scope: entry.scopes.join(' '),
    cron: entry.cron ?? null,
  });
  const same = (await deployedCode(repo, bot)) === code;
  if (!same) {
    await deployCode(repo, bot.id, code, `${entry.name}.js`);
  }
  const subscriptions: string[] = [];
  for (const s of entry.subscriptions) {
    subscriptions.push((await ensureSubscription(repo, bot.id, s.criteria, s.interactions ?? [], s.maxCount ?? 1)).id);
  }
  const switchedOff: string[] = [];
  for (const sub of await subscriptionsTo(repo, bot.id)) {
    if (sub.id && sub.status === 'active' && !subscriptions.includes(sub.id)) {
      await repo.updateResource<Subscription>({ ...sub, status: 'off' });
      switchedOff.push(sub.id);
    }
  }
  const mine = entry.secrets.filter((name) => secrets[name] !== undefined);
  await setSecrets(
    deps.db,
    bot.id,
    mine.map((name) => ({ name, value: secrets[name] ?? '' }))
  );
  return {
    name: entry.name,
    bot: bot.id,
    resource: created ? 'created' : updated ? 'updated' : 'unchanged',
    code: same ? 'unchanged' : 'deployed',
    bytes: code.length,
    subscriptions,
    switchedOff,
    secrets: mine,
  };
}

async function deployedCode(repo: HaleRepository, bot: Bot): Promise<string | undefined> {
  const url = bot.executableCode?.url;
  if (!url?.startsWith('Binary/')) {
    return undefined;
  }
  const binary = await repo.readResource<Binary>('Binary', url.slice('Binary/'.length)).catch(() => undefined);
  return binary?.data === undefined ? undefined : Buffer.from(binary.data, 'base64').toString('utf8');
}

/** As `$secrets` stores them; a value that is already there is not rewritten. An empty value removes one. */
async function setSecrets(db: Database, botId: string, secrets: readonly { name: string; value: string }[]) {
  if (secrets.length === 0) {
    return;
  }
  await db.transaction(async (tx) => {
    for (const { name, value } of secrets) {
      await tx.query(
        value === ''
          ? sql`DELETE FROM bot_secret WHERE bot_id = ${botId} AND name = ${name}`
          : sql`INSERT INTO bot_secret (bot_id, name, value) VALUES (${botId}, ${name}, ${value})
              ON CONFLICT (bot_id, name) DO UPDATE SET value = EXCLUDED.value, updated_at = now()
              WHERE bot_secret.value IS DISTINCT FROM EXCLUDED.value`
      );
    }
  });
}

/**
 * The default rules (bots/rules/*.json), stored as the install-rules bot stores them: a rule whose
 * canonical URL is stored already is left alone, so local edits and retirements are kept. Done here
 * rather than by running the bot, because the CLI has no running server for a bot's client to reach;
 * `$execute` of install-rules on a running server does the same.
 */
export async function installDefaultRules(repo: HaleRepository): Promise<InstallReport['rules']> {
  const out: InstallReport['rules'] = [];
  for (const { id: _id, meta: _meta, ...rule } of defaultRules()) {
    const url = rule.url ?? '';
    const found = await repo.search<PlanDefinition>({
      resourceType: 'PlanDefinition',
      filters: [{ code: 'url', operator: 'eq', value: url }],
      count: 1,
    });
    const existing = found.entry?.[0]?.resource;
    const stored = existing ?? (await repo.createResource<PlanDefinition>(rule));
    out.push({ url, id: stored.id ?? '', created: !existing });
  }
  return out;
}

function parseSecrets(values: readonly string[]): Record<string, string> {
  // No prototype: a manifest secret named constructor must not find Object's.
  const out = Object.create(null) as Record<string, string>;
  for (const v of values) {
    const eq = v.indexOf('=');
    const name = eq > 0 ? v.slice(0, eq) : '';
    if (!SECRET_NAME.test(name)) {
      throw new Error(`--secret wants NAME=value (letters, digits and _ in the name), not '${v}'`);
    }
    out[name] = v.slice(eq + 1);
  }
  return out;
}

/** `hale bot install [--manifest <file>] [--secret NAME=value]…`: prints the InstallReport as JSON. */
export async function runInstallCommand(argv: string[]): Promise<number> {
  if (argv.includes('--manifest') && !options(argv, 'manifest')[0]) {
    process.stderr.write(`Usage:\n${BOT_USAGE}`);
    return 2;
  }
  const path = options(argv, 'manifest')[0];
  const manifest = readManifest(path ? operatorPath(path) : DEFAULT_MANIFEST);
  const secrets = parseSecrets(options(argv, 'secret'));
  return withSystemRepository(async (repo, db) => {
    const report = await installBots({ repo, db }, manifest, secrets);
    process.stdout.write(JSON.stringify(report) + '\n');
    return 0;
  });
}
