import type { Server } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { AccessCache } from './access/consent/access-cache';
import { authDepsOf, createApp } from './app';
import { portalRedirectUris, registerPortalClient } from './auth/oauth/portal-client';
import { AuditWriter } from './audit/audit-writer';
import type { AuthDeps } from './auth/deps';
import { BotRuntime } from './bots/runtime';
import { BulkExports } from './bulk/service';
import { RateLimits } from './auth/rate-limit';
import { StatisticsMaintainer } from './jobs/analyze';
import { startPruning } from './jobs/prune';
import { Reindexer, recordFreshIndexState } from './jobs/reindex';
import type { HaleConfig } from './config';
import { Database } from './db/database';
import { redisNamespace } from './db/redis-namespace';
import type { EmbeddedPostgres } from './db/embedded';
import { startEmbeddedPostgres } from './db/embedded';
import { migrate } from './db/migrate';
import { loadFhirDefinitions } from './fhir/definitions';
import { Lifecycle } from './health/probes';
import { answerParseErrorsWithOutcomes } from './http-parse-errors';
import type { Logger } from './logger';
import { SearchParamRegistry } from './storage/search-params';
import { releaseStartupMemory } from './startup-memory';
import { publishHaleConformance, registerHaleProfiles } from './validation/hale-profiles';

export interface RunningHale {
  url: string;
  fhirBaseUrl: string;
  db: Database;
  /** What the identity code needs (tests and tools mint tokens with it, as the CLI does). */
  authDeps: AuthDeps;
  /** The AuditEvent writer (its stats show how requests shared batches). */
  audit: AuditWriter;
  /** The background reindex job (jobs/reindex.ts), started with the server. */
  reindexer: Reindexer;
  /** The bot runtime (undefined when BOTS_ENABLED=false). */
  bots: BotRuntime | undefined;
  /** Bulk Data $export: its ledger and this replica's worker. */
  bulk: BulkExports;
  /** The background ANALYZE job (jobs/analyze.ts): its last rounds. */
  statistics: StatisticsMaintainer;
  stop(): Promise<void>;
}

/**
 * Opens the database (external, or the embedded default), migrates it, loads the definitions and Hale's profiles,
 * and publishes Hale's conformance resources (fhir-profiles/) in the store.
 */
export async function openDatabase(
  config: HaleConfig,
  logger: Logger
): Promise<{ db: Database; embedded?: EmbeddedPostgres; searchParams: SearchParamRegistry }> {
  let embedded: EmbeddedPostgres | undefined;
  let url = config.databaseUrl;
  if (!url) {
    embedded = await startEmbeddedPostgres(config.embeddedDataDir);
    url = embedded.connectionString;
    logger.warn(
      { dataDir: embedded.dataDir },
      'DATABASE_URL is not set: using the EMBEDDED PostgreSQL (PGlite). For development and trials only, not for production.'
    );
  }
  const db = embedded
    ? new Database(url, 1)
    : new Database(url, config.databasePoolSize, config.databaseStatementTimeoutMs, config.databasePooler);
  try {
    await db.detectServer();
    if (await db.sessionTimeoutUnset()) {
      logger.warn(
        { statementTimeoutMs: config.databaseStatementTimeoutMs },
        'DATABASE_POOLER=pgbouncer: transactions get DATABASE_STATEMENT_TIMEOUT_MS, but statements outside one run with no statement_timeout; set it on the role (ALTER ROLE … SET statement_timeout)'
      );
    }
    const applied = await migrate(db);
    if (applied.length > 0) {
      logger.info({ applied }, 'database migrated');
    }
    loadFhirDefinitions();
    registerHaleProfiles();
    const searchParams = await SearchParamRegistry.load(db);
    await recordFreshIndexState(db);
    await publishHaleConformance(db, searchParams, config.fhirBaseUrl);
    return { db, embedded, searchParams };
  } catch (err) {
    await db.close().catch(() => undefined);
    await embedded?.stop().catch(() => undefined);
    throw err;
  }
}

/** Starts Hale; stop() stops accepting, drains in-flight requests, then closes Redis, the pool and any embedded database. */
export async function startHale(config: HaleConfig, logger: Logger): Promise<RunningHale> {
  const { db, embedded, searchParams } = await openDatabase(config, logger);
  const redis = config.redisUrl
    ? new Redis(config.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 2 })
    : undefined;
  if (redis) {
    watchRedis(redis, logger);
    await redis.connect();
  } else {
    logger.info('REDIS_URL is not set: running single-node');
  }
  // Listen first: with PORT=0 (tests) the base URL is only known once the port is bound.
  // Host is checked in the app (http-parse-errors.ts), where the refusal can be an OperationOutcome.
  const server: Server = createServer({ requireHostHeader: false });
  answerParseErrorsWithOutcomes(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const serverUrl = config.port === 0 ? `http://${config.host}:${port}` : config.serverUrl;
  const effective = { ...config, serverUrl, fhirBaseUrl: `${serverUrl}/fhir/R4` };
  const statistics = new StatisticsMaintainer(db, logger, config.analyzeAfterWrites);
  const auditWriter = new AuditWriter({
    db,
    searchParams,
    baseUrl: effective.fhirBaseUrl,
    afterWrite: statistics.recordWrites,
  });
  const lifecycle = new Lifecycle();
  // What Hale keeps in Redis is per database, as the bots' queues are (bots/runtime.ts): two deployments, or two
  // test servers, sharing a Redis neither throttle nor invalidate each other.
  const namespace = redis ? await redisNamespace(db) : 'hale';
  const appDeps = {
    config: effective,
    lifecycle,
    db,
    searchParams,
    logger,
    redis,
    rateLimits: new RateLimits(redis, config.authRateLimitPerMinute, namespace),
    statistics,
    auditWriter,
    accessCache: new AccessCache(redis, db, namespace),
    health: async (): Promise<Record<string, unknown>> => ({
      database: embedded ? 'embedded' : 'external',
      redis: redis ? (await redis.ping()) === 'PONG' : 'not configured',
    }),
  };
  const authDeps = authDepsOf(appDeps);
  const bots = config.botsEnabled
    ? new BotRuntime({
        config: effective,
        db,
        searchParams,
        logger,
        auth: authDeps,
        systemRepository: () => authDeps.systemRepository(),
        serverUrl,
      })
    : undefined;
  const bulk = new BulkExports({
    config: config.bulk,
    db,
    searchParams,
    baseUrl: effective.fhirBaseUrl,
    accessCache: appDeps.accessCache,
    audit: auditWriter,
    logger,
  });
  await registerPortalClient(db, portalRedirectUris(serverUrl, config.corsOrigins));
  const app = createApp({ ...appDeps, bots, bulk });
  const stopPruning = startPruning(db, logger);
  if (config.graphqlWarmup) {
    const started = Date.now();
    await app.warmGraphql();
    logger.info({ ms: Date.now() - started }, 'GraphQL schema built');
  }
  server.on('request', app);
  const reindexer = new Reindexer({ db, searchParams, baseUrl: effective.fhirBaseUrl, logger });
  reindexer.start();
  await bots?.start();
  bulk.start();
  // After the ready line, not before it: the collection takes ~0.2 s of CPU that start-up need not wait for.
  setImmediate(releaseStartupMemory).unref();
  lifecycle.state = 'ready';
  let stopping: Promise<void> | undefined;
  return {
    url: serverUrl,
    fhirBaseUrl: `${serverUrl}/fhir/R4`,
    db,
    authDeps,
    bots,
    bulk,
    audit: auditWriter,
    reindexer,
    statistics,
    stop() {
      stopping ??= (async () => {
        // Not ready from now on; a load balancer that probes /readyz stops sending new requests during the delay.
        lifecycle.state = 'draining';
        if (config.shutdownDelayMs > 0) {
          await new Promise((resolve) => setTimeout(resolve, config.shutdownDelayMs));
        }
        await new Promise<void>((resolve) => {
          const timer = setTimeout(() => server.closeAllConnections(), config.shutdownGraceMs);
          server.close(() => {
            clearTimeout(timer);
            resolve();
          });
          server.closeIdleConnections();
        });
        // Requests still open past the grace period may have queued events: they are written first.
        await bots?.stop();
        await bulk.stop();
        await auditWriter.drain();
        await statistics.stop();
        await stopPruning();
        await reindexer.stop();
        await redis?.quit().catch(() => undefined);
        await db.close();
        await embedded?.stop();
      })();
      return stopping;
    },
  };
}

/**
 * ioredis reconnects by itself; its 'error' events only need a listener (without one it prints
 * every failed reconnect attempt) and a log line that does not repeat for the whole outage.
 */
function watchRedis(redis: Redis, logger: Logger): void {
  let down = false;
  redis.on('error', (err: Error) => {
    if (!down) {
      down = true;
      logger.warn({ err: err.message }, 'Redis connection lost: retrying');
    }
  });
  redis.on('ready', () => {
    if (down) {
      down = false;
      logger.info('Redis connection restored');
    }
  });
}
