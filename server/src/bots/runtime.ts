import type { AuthDeps } from '../auth/deps';
import type { HaleConfig } from '../config';
import type { Database } from '../db/database';
import { redisNamespace } from '../db/redis-namespace';
import { sql } from '../db/sql';
import type { Logger } from '../logger';
import type { HaleRepository } from '../storage/repository';
import type { SearchParamRegistry } from '../storage/search-params';
import { BotTokens } from './bot-token';
import { CronScheduler } from './cron';
import { deliverer } from './deliver';
import type { Dispatcher } from './dispatcher';
import { BullDispatcher, LocalDispatcher } from './dispatcher';
import { JobStore } from './job-store';
import { subscriptionOutbox } from './outbox';
import type { BotInvocation, BotRunOutcome } from './run-bot';
import { runBot } from './run-bot';
import { BotSandbox } from './sandbox';
import { SubscriptionRegistry } from './subscription-registry';

export interface BotRuntimeDeps {
  config: HaleConfig;
  db: Database;
  searchParams: SearchParamRegistry;
  logger: Logger;
  auth: AuthDeps;
  systemRepository: () => HaleRepository;
  /** This server's own URL, where bots' clients reach the FHIR API. */
  serverUrl: string;
}

/**
 * The bot runtime: the subscription outbox (a pre-commit hook), the job ledger and its dispatcher
 * (BullMQ on Redis, or in-process), the cron scheduler and the sandbox. Start-up and shutdown are
 * symmetric; the sandbox's worker processes start on the first run, not with the server.
 */
export class BotRuntime {
  readonly registry: SubscriptionRegistry;
  readonly store: JobStore;
  private dispatcher: Dispatcher | undefined;
  private readonly cron: CronScheduler;
  private readonly tokens: BotTokens;
  private sandbox: BotSandbox | undefined;

  constructor(private readonly deps: BotRuntimeDeps) {
    const { config, db, logger } = deps;
    this.registry = new SubscriptionRegistry({
      db,
      searchParams: deps.searchParams,
      baseUrl: config.fhirBaseUrl,
      logger,
    });
    this.store = new JobStore(db);
    this.tokens = new BotTokens(deps.auth);
    this.cron = new CronScheduler({ db, store: this.store, logger, onAdded: () => this.kick() });
    db.beforeCommit(
      subscriptionOutbox(this.registry, { db, searchParams: deps.searchParams, baseUrl: config.fhirBaseUrl })
    );
    // After the commit, not in the hook: a look before the commit would not see the new jobs.
    db.onCommit((types) => {
      if ([...types].some((t) => this.registry.forType(t).length > 0)) {
        this.kick();
      }
      if (types.has('Bot') || types.has('Subscription')) {
        this.warmIfUsed(types.has('Bot'));
      }
    });
  }

  /**
   * Starts the sandbox's worker processes once bots are in use (a Subscription delivers to a Bot, or
   * a Bot was written), so the first event does not wait for them (~1 s on a busy machine) and the
   * events behind it do not queue up; a server with no bots never starts them.
   */
  private warmIfUsed(botWritten: boolean): void {
    if (botWritten || this.registry.hasBotChannel()) {
      this.sandboxNow();
    }
  }

  private sandboxNow(): BotSandbox {
    return (this.sandbox ??= new BotSandbox({ workers: this.deps.config.botWorkers, logger: this.deps.logger }));
  }

  async start(): Promise<void> {
    const { config, db, logger } = this.deps;
    await this.registry.start();
    this.warmIfUsed(false);
    const dispatch = {
      store: this.store,
      logger,
      concurrency: config.botWorkers,
      pollMs: 500,
      handler: deliverer({
        registry: this.registry,
        systemRepository: this.deps.systemRepository,
        logger,
        run: (call) => this.run(call),
        claimBatch: (job, limit) => this.store.claimBatch(job, limit),
        fhirBaseUrl: config.fhirBaseUrl,
      }),
    };
    if (config.redisUrl) {
      this.dispatcher = new BullDispatcher(dispatch, config.redisUrl, `hale:{${await redisNamespace(db)}}`);
    } else {
      this.dispatcher = new LocalDispatcher(dispatch);
    }
    this.dispatcher.start();
    this.cron.start();
  }

  kick(): void {
    this.dispatcher?.kick();
  }

  /** Runs a bot now (what $execute, subscriptions and cron all come down to). */
  run(call: BotInvocation): Promise<BotRunOutcome> {
    const { config, logger } = this.deps;
    return runBot(
      {
        db: this.deps.db,
        logger,
        systemRepository: this.deps.systemRepository,
        tokens: this.tokens,
        sandbox: () => this.sandboxNow(),
        serverUrl: this.deps.serverUrl,
        fetchAllowHosts: config.botFetchAllowHosts,
        limits: {
          memoryMb: config.botMemoryMb,
          cpuMs: config.botTimeoutMs,
          wallMs: config.botTimeoutMs,
          logBytes: config.botLogBytes,
        },
      },
      call
    );
  }

  /** Upserts secrets (an empty value removes one). */
  async setSecrets(botId: string, secrets: readonly { name: string; value: string }[]): Promise<void> {
    await this.deps.db.transaction(async (tx) => {
      for (const { name, value } of secrets) {
        await tx.query(
          value === ''
            ? sql`DELETE FROM bot_secret WHERE bot_id = ${botId} AND name = ${name}`
            : sql`INSERT INTO bot_secret (bot_id, name, value) VALUES (${botId}, ${name}, ${value})
                ON CONFLICT (bot_id, name) DO UPDATE SET value = EXCLUDED.value, updated_at = now()`
        );
      }
    });
  }

  async secretNames(botId: string): Promise<string[]> {
    const rows = await this.deps.db.query<{ name: string }>(
      sql`SELECT name FROM bot_secret WHERE bot_id = ${botId} ORDER BY name`
    );
    return rows.map((r) => r.name);
  }

  /** Tests: add the cron jobs of one minute now. */
  tickCron(minute: Date): Promise<number> {
    return this.cron.tick(minute);
  }

  async stop(): Promise<void> {
    this.registry.stop();
    await this.cron.stop();
    await this.dispatcher?.stop();
    await this.sandbox?.close();
  }
}
