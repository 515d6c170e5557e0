import { OperationOutcomeError, badRequest } from '@medplum/core';
import type { AuditEvent, Binary, Bot, Reference } from '@medplum/fhirtypes';
import { randomUUID } from 'node:crypto';
import type { Database } from '../db/database';
import { sql } from '../db/sql';
import type { Logger } from '../logger';
import type { HaleRepository } from '../storage/repository';
import type { BotTokens } from './bot-token';
import type { SandboxLimits, SandboxResult, SandboxRun } from './sandbox';

/** What started a run, as the AuditEvent and the run record say it. */
export type Trigger = 'execute' | 'subscription' | 'cron';

export interface BotInvocation {
  botId: string;
  trigger: Trigger;
  contentType: string;
  input: unknown;
  headers?: Record<string, string>;
  /** The versions the event is about (a subscription's, one or a batch), for the audit trail. */
  about?: readonly Reference[];
  /** The caller's own token, for a Bot with runAsUser on $execute (the bot then acts with the caller's access). */
  callerToken?: string;
}

export interface BotRunnerDeps {
  db: Database;
  logger: Logger;
  systemRepository: () => HaleRepository;
  tokens: BotTokens;
  /** The sandbox, created on the first run (its worker processes cost memory and start time). */
  sandbox: () => { run(run: SandboxRun): Promise<SandboxResult> };
  /** Where bots' MedplumClients reach Hale (this server's own URL). */
  serverUrl: string;
  fetchAllowHosts: readonly string[];
  limits: SandboxLimits;
}

export interface BotRunOutcome extends SandboxResult {
  bot: Bot & { id: string };
}

/**
 * Runs one bot invocation: loads the Bot and its deployed code, mints its token (or takes the
 * caller's, for runAsUser on $execute), gives it its secrets, runs it in the sandbox, and writes
 * the run's AuditEvent (bot, trigger, outcome, duration, its log lines). A bot's failure is a
 * failed run, never a thrown error; a missing Bot or missing code throws a 4xx.
 */
export async function runBot(deps: BotRunnerDeps, call: BotInvocation): Promise<BotRunOutcome> {
  const repo = deps.systemRepository();
  const bot = (await repo.readResource<Bot>('Bot', call.botId)) as Bot & { id: string };
  const code = await deployedCode(repo, bot);
  const accessToken = bot.runAsUser && call.callerToken ? call.callerToken : ((await deps.tokens.tokenFor(bot)) ?? '');
  const traceId = randomUUID();
  const timeoutMs =
    bot.timeout && bot.timeout > 0 ? Math.min(bot.timeout * 1000, deps.limits.wallMs) : deps.limits.wallMs;
  const result = await deps.sandbox().run({
    code,
    event: {
      bot: { reference: `Bot/${bot.id}`, display: bot.name },
      contentType: call.contentType,
      input: call.input ?? null,
      secrets: await secretsOf(deps.db, bot.id),
      traceId,
      headers: call.headers ?? {},
    },
    client: { baseUrl: deps.serverUrl, accessToken },
    fetchAllowHosts: deps.fetchAllowHosts,
    limits: { ...deps.limits, wallMs: timeoutMs },
  });
  await recordRun(repo, bot, call, result, traceId).catch((err: unknown) =>
    deps.logger.error({ err, bot: bot.id }, 'could not write the AuditEvent of a bot run')
  );
  return { ...result, bot };
}

async function deployedCode(repo: HaleRepository, bot: Bot & { id: string }): Promise<string> {
  const url = bot.executableCode?.url;
  const binaryId = url?.startsWith('Binary/') ? url.slice('Binary/'.length) : undefined;
  if (!binaryId) {
    if (bot.code) {
      return bot.code; // Medplum's legacy inline code
    }
    throw new OperationOutcomeError(badRequest(`Bot/${bot.id} has no deployed code: deploy it with Bot/$deploy`));
  }
  const binary = await repo.readResource<Binary>('Binary', binaryId);
  return Buffer.from(binary.data ?? '', 'base64').toString('utf8');
}

/** Secrets as Medplum's runtime passes them: `{ NAME: { name, valueString } }`. */
async function secretsOf(db: Database, botId: string): Promise<Record<string, { name: string; valueString: string }>> {
  const rows = await db.query<{ name: string; value: string }>(
    sql`SELECT name, value FROM bot_secret WHERE bot_id = ${botId} ORDER BY name`
  );
  return Object.fromEntries(rows.map((r) => [r.name, { name: r.name, valueString: r.value }]));
}

/** Log lines kept in the AuditEvent (the sandbox has capped them already). */
const MAX_LOG_CHARS = 65_536;

async function recordRun(
  repo: HaleRepository,
  bot: Bot & { id: string },
  call: BotInvocation,
  result: SandboxResult,
  traceId: string
): Promise<void> {
  const detail = (type: string, value: string): { type: string; valueString: string } => ({ type, valueString: value });
  const event: AuditEvent = {
    resourceType: 'AuditEvent',
    type: {
      system: 'http://terminology.hl7.org/CodeSystem/audit-event-type',
      code: 'rest',
      display: 'RESTful Operation',
    },
    subtype: [{ system: 'https://hale.health/fhir/CodeSystem/bot-trigger', code: call.trigger }],
    action: 'E',
    recorded: new Date().toISOString(),
    outcome: result.ok ? '0' : '8',
    outcomeDesc: result.ok
      ? undefined
      : `${result.error?.kind ?? 'error'}: ${result.error?.message ?? ''}`.slice(0, 1000),
    agent: [{ who: { reference: `Bot/${bot.id}`, display: bot.name }, requestor: true }],
    source: { observer: { display: 'Hale bot runtime' } },
    entity: [
      {
        what: { reference: `Bot/${bot.id}` },
        role: { system: 'http://terminology.hl7.org/CodeSystem/object-role', code: '4', display: 'Domain Resource' },
        detail: [
          detail('trace-id', traceId),
          detail('duration-ms', String(Math.round(result.durationMs))),
          ...(result.logs.length > 0 ? [detail('log', result.logs.join('\n').slice(0, MAX_LOG_CHARS))] : []),
        ],
      },
      ...(call.about ?? []).map((what) => ({ what })),
    ],
  };
  await repo.createResource(event);
}
