import { OperationOutcomeError, badRequest, contentTooLarge, notFound, unsupportedMediaType } from '@medplum/core';
import type { FhirRouter } from '@medplum/fhir-router';
import type { CapabilityStatement } from '@medplum/fhirtypes';
import express from 'express';
import type { NextFunction, Request, Response } from 'express';
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { requireBearer } from './access/authenticate';
import { policyForToken } from './access/caller-policy';
import type { AccessCache } from './access/consent/access-cache';
import type { AuditWriter } from './audit/audit-writer';
import { guardAuditEvents, mayCreateAuditEvents } from './audit/immutable';
import { guardWorkflowWrites, workflowWriter } from './scheduling/write-guard';
import { RequestAuditor } from './audit/request-audit';
import type { AuthDeps } from './auth/deps';
import type { BotRuntime } from './bots/runtime';
import { bulkRoutes } from './bulk/routes';
import type { BulkExports } from './bulk/service';
import { NDJSON_TYPES } from './bulk/import/kickoff';
import { parseScopes, verifyAccessToken } from './auth/oauth';
import { oauthContext } from './auth/oauth/context';
import { keyStoreSigner } from './documents/signature';
import { mountAuthRoutes } from './auth/routes';
import type { AccessTokenClaims } from './auth/types';
import type { RateLimits } from './auth/rate-limit';
import { runInRequest } from './request-context';
import { cors, securityHeaders } from './response-headers';
import type { HaleConfig } from './config';
import type { Database } from './db/database';
import { sql } from './db/sql';
import { toOutcome } from './fhir/errors';
import { FHIR_JSON, handleFhir, outcomeStatus, parsePrefer, sendOutcome } from './fhir/http';
import { parseJsonBody } from './fhir/json-body';
import { isStreamedRequest, streamedBody } from './fhir/streamed-body';
import { buildCapabilityStatement, HALE_VERSION } from './fhir/operations/metadata';
import { createFhirRouter } from './fhir/router';
import type { StatisticsMaintainer } from './jobs/analyze';
import { mountBotMessaging } from './notify/bot-messaging';
import { notifierFor } from './notify/notifier';
import { requireHostHeader } from './http-parse-errors';
import type { Logger } from './logger';
import { httpMetrics, mountMetrics, vocabularyOf } from './metrics/http';
import { HaleMetrics } from './metrics/registry';
import type { Lifecycle } from './health/probes';
import { closeConnectionsWhileDraining, mountProbes } from './health/probes';
import { anonymousDirectory } from './marketplace/anonymous';
import { DEFAULT_PORTAL_DIR, loadPortalFiles, portalFiles } from './portal/static-files';
import type { AccessPolicy } from './storage/access';
import { uploadsOf } from './uploads/service';
import { systemAccess } from './storage/access';
import { HaleRepository } from './storage/repository';
import type { SearchParamRegistry } from './storage/search-params';

export interface AppDeps {
  config: HaleConfig;
  db: Database;
  searchParams: SearchParamRegistry;
  logger: Logger;
  redis: Redis | undefined;
  rateLimits: RateLimits;
  statistics: StatisticsMaintainer;
  /** Cached Consent grants per caller, invalidated on every access-relevant write (across replicas via Redis). */
  accessCache: AccessCache;
  /** Group-committed AuditEvents: every FHIR request waits for its own before answering. */
  auditWriter: AuditWriter;
  /** The bot runtime, when BOTS_ENABLED (the FHIR operations on Bot reach it). */
  bots?: BotRuntime;
  /** Bulk Data $export: the kick-off operations and the status/file routes reach it. */
  bulk?: BulkExports;
  /** Extra health facts (embedded database, Redis) shown by /healthcheck. */
  health: () => Promise<Record<string, unknown>>;
  /** Starting, ready or draining: /readyz reports it. */
  lifecycle: Lifecycle;
}

const JSON_TYPES = ['application/fhir+json', 'application/json', 'application/json-patch+json'];

/** express stays thin: request id and logs, CORS, body reading, then everything FHIR goes to the router. */
export function createApp(deps: AppDeps): express.Express & { warmGraphql(): Promise<void> } {
  const { config, logger } = deps;
  const router: FhirRouter = createFhirRouter(logger, {
    systemRepository: () => newRepository(deps, false, systemAccess),
    accessCache: deps.accessCache,
    audit: deps.auditWriter,
    notifier: notifierFor(config, logger),
    serverUrl: config.serverUrl,
    bundleMaxEntries: config.bundleMaxEntries,
    deviceImportMaxBytes: config.deviceImportMaxBytes,
    bots: deps.bots,
    bulk: deps.bulk,
    triage: config.triage,
    telehealth: config.telehealth,
    // The key store is the token issuer's (one per database), created on first use.
    signDocument: keyStoreSigner(() => oauthContext(authDepsOf(deps)).keys),
    uploads: uploadsOf(config.uploads),
  });
  const capabilityStatement = buildCapabilityStatement(config.fhirBaseUrl);
  const capability = JSON.stringify(capabilityStatement);
  const app = express();
  const metrics = new HaleMetrics(deps.db);
  app.disable('x-powered-by');
  app.set('query parser', (q: string | null) => parseQuery(q));
  // Resources carry their own ETag (W/"versionId"); hashing every other body (a 300-entry
  // transaction response is ~0.5 MB) costs CPU and gives clients nothing they can use.
  app.set('etag', false);
  // Behind a reverse proxy, its X-Forwarded-For names the client (rate limits count per client address).
  app.set('trust proxy', config.trustProxy);
  app.use(requestLog(logger));
  app.use(requireHostHeader);
  app.use(httpMetrics(metrics, vocabularyOf(app, declaredOperations(capabilityStatement))));
  app.use(closeConnectionsWhileDraining(deps.lifecycle));
  app.use(securityHeaders);
  app.use(cors(config));
  app.use(refuseDeclaredOversize(config.bodyLimitBytes));
  // A streamed operation's body is left unread here: its handler reads it, with its own limit (streamed-body.ts).
  app.use(
    express.text({
      type: (req) => !isStreamedRequest(req as Request),
      limit: config.bodyLimitBytes,
      defaultCharset: 'utf-8',
    })
  );
  app.use((req, _res, next) => {
    try {
      req.body = parseBody(req, config.maxJsonDepth);
    } catch (err) {
      next(err);
      return;
    }
    // Here, not in requestLog: the body arrives on socket events, which run outside any request's context.
    runInRequest(req.id ?? '', next);
  });

  mountProbes(app, deps.lifecycle);
  mountMetrics(app, metrics, config.metricsToken);
  app.get('/healthcheck', async (_req, res, next) => {
    try {
      const [row] = await deps.db.query<{ version: string }>(sql`SELECT version()`);
      res.json({ ok: true, version: HALE_VERSION, postgres: row?.version, ...(await deps.health()) });
    } catch (err) {
      next(err);
    }
  });

  const authDeps = authDepsOf(deps);
  const audit = new RequestAuditor({
    writer: deps.auditWriter,
    db: deps.db,
    baseUrl: config.fhirBaseUrl,
    logger,
  });
  const accessCache = deps.accessCache;
  const bearer = requireBearer((token) => verifyAccessToken(authDeps, token), config.fhirBaseUrl);
  // Account routes that act for a signed-in person (application status, admin review) take a token too.
  app.use(['/auth/admin', '/auth/me'], bearer);
  mountAuthRoutes(app, authDeps);
  mountBotMessaging(app, { ...authDeps, audit: deps.auditWriter, bearer });

  app.get('/fhir/R4/metadata', (_req, res) => {
    res.set('Cache-Control', 'public, max-age=300').type(FHIR_JSON).send(capability);
  });

  // The marketplace directory answers GET search/read of its listing types without a token (docs/marketplace.md).
  app.use(
    '/fhir/R4',
    anonymousDirectory({
      router,
      rateLimits: deps.rateLimits,
      perMinute: config.marketplaceAnonymousPerMinute,
      baseUrl: config.fhirBaseUrl,
      policyContext: { db: deps.db, searchParams: deps.searchParams, baseUrl: config.fhirBaseUrl },
      repository: (access) => newRepository(deps, false, access),
    })
  );
  // Everything else under the FHIR base but /metadata and the SMART discovery document needs a token.
  app.use(
    '/fhir/R4',
    requireBearer((token) => verifyAccessToken(authDeps, token), config.fhirBaseUrl)
  );
  // Bulk Data status URLs and output files (not FHIR resources; each download is audited there).
  if (deps.bulk) {
    app.use('/fhir/R4/bulkdata', bulkRoutes(deps.bulk));
  }

  app.use('/fhir/R4', async (req, res, next) => {
    const claims = req.auth as AccessTokenClaims;
    let access: AccessPolicy | undefined;
    let audited = false;
    try {
      const scopes = parseScopes(claims.scope).resources;
      const policyCtx = { db: deps.db, searchParams: deps.searchParams, baseUrl: config.fhirBaseUrl };
      access = guardWorkflowWrites(
        guardAuditEvents(await policyForToken(claims, scopes, policyCtx, accessCache), mayCreateAuditEvents(scopes)),
        await workflowWriter(claims, scopes, policyCtx, accessCache)
      );
      const repo = newRepository(deps, parsePrefer(req.header('prefer')).handling === 'strict', access, claims);
      // A transaction Bundle writes its AuditEvents in its own transaction, just before the commit,
      // so they commit with the data. If the commit then fails the answer is an error, audited below.
      let auditedInTransaction = false;
      repo.ctx.beforeCommit = async (answer) => {
        const writes = await audit.writesIn({ req, claims, access, status: 200, body: answer });
        auditedInTransaction = true;
        return writes;
      };
      // Audit hook (post-answer, pre-send): the answer goes out only once its AuditEvents have
      // committed; if they cannot be, AuditUnavailableError answers 500 instead. A write has then
      // already committed (the client sees a 500 and must not assume it failed); a read's data is
      // never released unaudited.
      await handleFhir(req, res, router, repo, config.fhirBaseUrl, async (status, body) => {
        audited = true;
        if (!(auditedInTransaction && status < 400)) {
          await audit.record({ req, claims, access, status, body, disclosed: repo.ctx.disclosed });
        }
      });
    } catch (err) {
      if (!audited) {
        // Refused before the router answered (bad _format, unknown route, bad body): audited as a failure too.
        try {
          const { outcome } = toOutcome(err);
          await audit.record({ req, claims, access, status: outcomeStatus(outcome), body: outcome });
        } catch (auditErr) {
          next(auditErr);
          return;
        }
      }
      next(err);
    }
  });

  // The web portal's build at `/` (after every API route, so it never shadows one).
  const portal = loadPortalFiles(DEFAULT_PORTAL_DIR);
  if (portal) {
    app.use(portalFiles(portal));
  } else {
    logger.info({ dir: DEFAULT_PORTAL_DIR }, 'no web portal build: `npm run -w web build` to serve it at /');
  }
  app.use((_req, res) => sendOutcome(res, 404, notFound));
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const bodyError = err as { type?: string; status?: number };
    if (bodyError.type === 'entity.too.large') {
      sendOutcome(res, 413, contentTooLarge(`Request body exceeds the limit of ${config.bodyLimitBytes} bytes`));
      return;
    }
    if (bodyError.type && typeof bodyError.status === 'number' && bodyError.status < 500) {
      sendOutcome(res, bodyError.status, badRequest(`Could not read the request body (${bodyError.type})`));
      return;
    }
    const { outcome, unexpected } = toOutcome(err);
    if (unexpected) {
      logger.error({ err, reqId: req.id, method: req.method, path: req.path }, 'unexpected error');
    }
    const status = (err instanceof OperationOutcomeError ? undefined : bodyError.status) ?? outcomeStatus(outcome);
    sendOutcome(res, status, outcome);
  });
  // @medplum/fhir-router builds its GraphQL schema for all 147 types on first use: seconds of
  // synchronous CPU that must not land on a user's request.
  const warmGraphql = async (): Promise<void> => {
    const repo = newRepository(deps, false, systemAccess);
    await router.handleRequest(
      { method: 'POST', url: '$graphql', pathname: '', params: {}, query: {}, body: { query: '{ __typename }' } },
      repo
    );
  };
  return Object.assign(app, { warmGraphql });
}

function declaredOperations(statement: CapabilityStatement): Set<string> {
  const rest = statement.rest?.[0];
  const ops = [...(rest?.operation ?? []), ...(rest?.resource ?? []).flatMap((r) => r.operation ?? [])];
  return new Set(ops.map((op) => op.name));
}

/** A repository for one request, carrying the caller's access policy. */
function newRepository(
  deps: AppDeps,
  strictSearch: boolean,
  access: AccessPolicy,
  caller?: AccessTokenClaims
): HaleRepository {
  return new HaleRepository({
    db: deps.db,
    access,
    searchParams: deps.searchParams,
    baseUrl: deps.config.fhirBaseUrl,
    validate: true,
    requireProfiles: deps.config.requireProfiles,
    strictSearch,
    afterWrite: deps.statistics.recordWrites,
    caller,
  });
}

export function authDepsOf(deps: AppDeps): AuthDeps {
  return {
    config: deps.config,
    db: deps.db,
    logger: deps.logger,
    redis: deps.redis,
    rateLimits: deps.rateLimits,
    systemRepository: () => newRepository(deps, false, systemAccess),
  };
}

/**
 * Query strings keep repeated keys as arrays (repeated parameters are AND in FHIR search). express
 * passes null when the URL has no query string, and `new URLSearchParams(null)` would read it as `null=`.
 */
function parseQuery(q: string | null): Record<string, string | string[]> {
  // No prototype: `?constructor=x` must not find Object.prototype.constructor as an earlier value.
  const out = Object.create(null) as Record<string, string | string[]>;
  if (typeof q !== 'string') {
    return out;
  }
  for (const [k, v] of new URLSearchParams(q)) {
    const existing = out[k];
    out[k] = existing === undefined ? v : [existing, v].flat();
  }
  return out;
}

/**
 * body-parser answers an oversized body only after reading all of it (it drains the request so the
 * connection can be reused): a client announcing 1 GB would hold a connection for as long as it takes to
 * send it. A Content-Length over the limit is refused at once, through the one error handler, and the
 * connection is closed rather than drained. A chunked body is still cut off by express.text's limit.
 */
function refuseDeclaredOversize(limit: number) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const declared = Number(req.header('content-length') ?? 0);
    if (declared > limit && !isStreamedRequest(req)) {
      res.setHeader('Connection', 'close');
      next(Object.assign(new Error('request entity too large'), { type: 'entity.too.large', status: 413 }));
      return;
    }
    next();
  };
}

function parseBody(req: Request, maxDepth: number): unknown {
  if (isStreamedRequest(req)) {
    return streamedBody(req);
  }
  const text = typeof req.body === 'string' ? req.body : '';
  if (
    req.method === 'GET' ||
    req.method === 'DELETE' ||
    req.method === 'HEAD' ||
    req.method === 'OPTIONS' ||
    text === ''
  ) {
    return undefined;
  }
  const type = (req.header('content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (type === 'application/x-www-form-urlencoded' && req.method === 'POST') {
    return new URLSearchParams(text);
  }
  if (!JSON_TYPES.includes(type) && /^\/fhir\/R4\/Bot\/([^/]+\/)?\$execute$/.test(req.path)) {
    return text; // a bot takes any input (text, HL7 v2, CSV …) as Medplum's $execute does
  }
  if (NDJSON_TYPES.has(type) && req.path === '/fhir/R4/$import') {
    return text; // one NDJSON file, parsed line by line when the import runs (bulk/import/)
  }
  if (!JSON_TYPES.includes(type)) {
    throw new OperationOutcomeError({
      ...unsupportedMediaType,
      issue: [
        {
          severity: 'error',
          code: 'not-supported',
          details: { text: `Unsupported Content-Type '${type}': send application/fhir+json` },
        },
      ],
    });
  }
  return parseJsonBody(text, { maxDepth });
}

declare module 'express-serve-static-core' {
  interface Request {
    id?: string;
  }
}

function requestLog(logger: Logger) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const incoming = req.header('x-request-id');
    req.id = incoming && /^[A-Za-z0-9._-]{1,64}$/.test(incoming) ? incoming : randomUUID();
    res.setHeader('X-Request-Id', req.id);
    const start = process.hrtime.bigint();
    // Read now: by 'finish', a router mounted at /fhir/R4 or /auth may have cut its prefix off req.path.
    const path = req.path;
    res.on('finish', () => {
      // The path only: query strings and bodies can carry PHI.
      logger.info(
        {
          reqId: req.id,
          method: req.method,
          path,
          status: res.statusCode,
          ms: Number(process.hrtime.bigint() - start) / 1e6,
        },
        'request'
      );
    });
    next();
  };
}
