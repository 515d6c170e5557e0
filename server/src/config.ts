import { z } from 'zod';
import type { BulkConfig } from './bulk/config';
import { BULK_ENV, bulkConfigOf } from './bulk/config';
import type { TriageConfig } from './scheduling/triage-config';
import { TRIAGE_ENV, triageConfigOf } from './scheduling/triage-config';
import type { TelehealthConfig } from './telehealth/config';
import { TELEHEALTH_ENV, telehealthConfigOf, telehealthConfigProblem } from './telehealth/config';
import type { UploadConfig } from './uploads/config';
import { UPLOAD_ENV, uploadConfigOf } from './uploads/config';
import { PROFILED_TYPES } from './validation/required-profiles';

/**
 * Typed configuration, read once from environment variables and validated at start.
 * Every variable is documented in docs/configuration.md.
 */
const schema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8103),
  HOST: z.string().default('127.0.0.1'),
  BASE_URL: z.string().url().optional(),
  CORS_ORIGINS: z
    .string()
    .refine(
      (v) => v.split(',').every((o) => isOrigin(o.trim())),
      'a comma-separated list of origins such as https://portal.example.org (scheme, host and port only)'
    )
    .optional(),
  TRUST_PROXY: z
    .string()
    .regex(
      /^(false|\d+|((loopback|linklocal|uniquelocal|[0-9a-fA-F.:]+(\/\d{1,3})?)(\s*,\s*|$))+)$/,
      'false, a number of proxy hops, or a comma-separated list of proxy addresses/CIDRs (loopback, uniquelocal …); not true'
    )
    .default('false'),
  DATABASE_URL: z.string().url().optional(),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  DATABASE_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(0).max(3_600_000).default(60_000),
  EMBEDDED_DATA_DIR: z.string().default('.hale-data/pg'),
  REDIS_URL: z.string().url().optional(),
  DATABASE_POOLER: z.enum(['none', 'pgbouncer']).default('none'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  BODY_LIMIT: z
    .string()
    .regex(/^\d+(kb|mb)?$/i, 'a byte count such as 16mb, 512kb or 1048576')
    .default('16mb'),
  DEVICE_IMPORT_MAX_BYTES: z
    .string()
    .regex(/^\d+(kb|mb)?$/i, 'a byte count such as 2048mb')
    .default('4096mb'),
  MAX_JSON_DEPTH: z.coerce.number().int().min(8).max(1000).default(64),
  BUNDLE_MAX_ENTRIES: z.coerce.number().int().min(1).default(10000),
  NODE_ENV: z.enum(['production', 'development', 'test']).default('development'),
  SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).default(10000),
  SHUTDOWN_DELAY_MS: z.coerce.number().int().min(0).max(600_000).default(0),
  METRICS_TOKEN: z
    .string()
    .regex(/^[\x21-\x7e]{32,}$/, 'at least 32 printable characters without spaces (openssl rand -hex 32)')
    .optional(),
  GRAPHQL_WARMUP: z.enum(['true', 'false']).optional(),
  SMTP_URL: z.string().url().optional(),
  MAIL_FROM: z.string().default('Hale <no-reply@hale.invalid>'),
  TWILIO_ACCOUNT_SID: z.string().optional(),
  TWILIO_AUTH_TOKEN: z.string().optional(),
  TWILIO_FROM: z.string().optional(),
  TWILIO_API_URL: z.string().url().default('https://api.twilio.com'),
  SMS_SINK_FILE: z.string().optional(),
  ACCESS_TOKEN_TTL_SECONDS: z.coerce.number().int().min(30).max(3600).default(300),
  REFRESH_TOKEN_TTL_DAYS: z.coerce.number().int().min(1).max(365).default(30),
  SIGNING_KEY_ROTATION_DAYS: z.coerce.number().int().min(1).max(365).default(30),
  AUTH_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).default(20),
  MARKETPLACE_ANONYMOUS_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).default(120),
  DEMO_MODE: z.enum(['true', 'false']).default('false'),
  ANALYZE_AFTER_WRITES: z.coerce.number().int().min(1).default(5000),
  BOTS_ENABLED: z.enum(['true', 'false']).default('true'),
  BOT_WORKERS: z.coerce.number().int().min(1).max(64).default(2),
  BOT_MEMORY_MB: z.coerce.number().int().min(8).max(4096).default(128),
  BOT_TIMEOUT_MS: z.coerce.number().int().min(100).max(900_000).default(10_000),
  BOT_LOG_BYTES: z.coerce.number().int().min(1024).max(10_485_760).default(65_536),
  BOT_FETCH_ALLOW_HOSTS: z
    .string()
    .regex(/^[A-Za-z0-9.-]*(,[A-Za-z0-9.-]+)*$/, 'a comma-separated list of host names such as api.example.org')
    .default(''),
  REQUIRE_PROFILES: z
    .string()
    .refine(
      (v) => v === 'none' || v.split(',').every((t) => PROFILED_TYPES.includes(t.trim())),
      `none, or a comma-separated list of resource types with Hale profiles to require (${PROFILED_TYPES.join(', ')})`
    )
    .default(PROFILED_TYPES.join(',')),
  ...BULK_ENV,
  ...TRIAGE_ENV,
  ...TELEHEALTH_ENV,
  ...UPLOAD_ENV,
});

export interface HaleConfig {
  port: number;
  host: string;
  /** Public base URL of the FHIR endpoint, e.g. https://hale.example.org/fhir/R4 (no trailing slash). */
  fhirBaseUrl: string;
  /** Public base URL of the server, e.g. https://hale.example.org (no trailing slash). */
  serverUrl: string;
  /** Origins allowed to call Hale with credentials (the portal's); undefined: the origin of serverUrl. */
  corsOrigins: string[] | undefined;
  /** express's `trust proxy`: which proxies' X-Forwarded-For names the client address (false: none). */
  trustProxy: false | number | string;
  databaseUrl: string | undefined;
  databasePoolSize: number;
  /** statement_timeout (and idle_in_transaction_session_timeout) of Hale's connections; 0: none. */
  databaseStatementTimeoutMs: number;
  embeddedDataDir: string;
  redisUrl: string | undefined;
  logLevel: z.infer<typeof schema>['LOG_LEVEL'];
  /** `pgbouncer`: DATABASE_URL is PgBouncer in transaction mode (db/database.ts, docs/reliability.md). */
  databasePooler: 'none' | 'pgbouncer';
  bodyLimitBytes: number;
  /** The largest file $import-device reads (streamed, so not held in memory; Apple Health exports pass 1 GB). */
  deviceImportMaxBytes: number;
  maxJsonDepth: number;
  /** Entries a batch or transaction Bundle may hold; more answers 413. */
  bundleMaxEntries: number;
  /** The bot runtime (subscriptions, cron, $execute); off only for tools and tests that need none. */
  botsEnabled: boolean;
  /** Sandbox worker processes, and bot jobs run at once on this replica. */
  botWorkers: number;
  botMemoryMb: number;
  /** A run's wall-clock and CPU limit; a Bot's own `timeout` (seconds) may lower it. */
  botTimeoutMs: number;
  botLogBytes: number;
  /** https hosts bots' fetch may reach (exact names); empty: none. */
  botFetchAllowHosts: string[];
  env: z.infer<typeof schema>['NODE_ENV'];
  shutdownGraceMs: number;
  /** On SIGTERM, how long to keep accepting (with /readyz answering 503) before closing the listener. */
  shutdownDelayMs: number;
  /** The bearer token a Prometheus scraper sends for /metrics; unset: /metrics is off. */
  metricsToken: string | undefined;
  /** Build the GraphQL schema before reporting ready (a one-time ~7 s of CPU); off by default in tests. */
  graphqlWarmup: boolean;
  /** SMTP server for mail (nodemailer URL); unset: mail is written to the log sink only in development/test. */
  smtpUrl: string | undefined;
  mailFrom: string;
  /** Twilio-compatible SMS; unset: SMS go to smsSinkFile (or the log) — never in production. */
  twilio: { accountSid: string; authToken: string; from: string; apiUrl: string } | undefined;
  smsSinkFile: string | undefined;
  /** TWILIO_AUTH_TOKEN alone: checks the signature of Twilio's inbound-SMS webhook (unset: no webhook). */
  twilioAuthToken: string | undefined;
  accessTokenTtlSeconds: number;
  refreshTokenTtlDays: number;
  signingKeyRotationDays: number;
  authRateLimitPerMinute: number;
  /** Anonymous marketplace directory requests per minute per client address (docs/marketplace.md). */
  marketplaceAnonymousPerMinute: number;
  /** Development only: labelled demo users and data may be loaded. Refused in production. */
  demoMode: boolean;
  /** Refresh planner statistics after this many written versions (and after 10% growth). */
  analyzeAfterWrites: number;
  /** Bulk Data $export (BULK_*). */
  bulk: BulkConfig;
  /** Visit requests' emergency rule (TRIAGE_*). */
  triage: TriageConfig;
  /** Telehealth join links (TELEHEALTH_*). */
  telehealth: TelehealthConfig;
  /** Uploads: limits, storage, virus scan (UPLOAD_*). */
  uploads: UploadConfig;
  /** Resource types whose Hale profiles a patient app's writes must conform to; empty: none. */
  requireProfiles: string[];
}

export class ConfigError extends Error {}

/** An origin as browsers send it: scheme, host and optional port, nothing else (a trailing slash is forgiven). */
function isOrigin(value: string): boolean {
  try {
    return new URL(value).origin === value.replace(/\/+$/, '');
  } catch {
    return false;
  }
}

export function parseByteSize(value: string): number {
  const m = /^(\d+)(kb|mb)?$/i.exec(value);
  if (!m?.[1]) {
    throw new ConfigError(`not a byte size: ${value}`);
  }
  const n = Number(m[1]);
  const unit = m[2]?.toLowerCase();
  return unit === 'mb' ? n * 1024 * 1024 : unit === 'kb' ? n * 1024 : n;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): HaleConfig {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`).join('\n');
    throw new ConfigError(`Invalid configuration:\n${problems}`);
  }
  const e = parsed.data;
  if (e.NODE_ENV === 'production' && e.DEMO_MODE === 'true') {
    throw new ConfigError('Invalid configuration:\n  DEMO_MODE: demo accounts and data are refused in production');
  }
  const telehealthProblem = telehealthConfigProblem(e);
  if (telehealthProblem) {
    throw new ConfigError(`Invalid configuration:\n  ${telehealthProblem}`);
  }
  const serverUrl = (e.BASE_URL ?? `http://${e.HOST === '0.0.0.0' ? 'localhost' : e.HOST}:${e.PORT}`).replace(
    /\/+$/,
    ''
  );
  return {
    port: e.PORT,
    host: e.HOST,
    serverUrl,
    fhirBaseUrl: `${serverUrl}/fhir/R4`,
    corsOrigins: e.CORS_ORIGINS?.split(',').map((o) => o.trim().replace(/\/+$/, '')),
    trustProxy: e.TRUST_PROXY === 'false' ? false : /^\d+$/.test(e.TRUST_PROXY) ? Number(e.TRUST_PROXY) : e.TRUST_PROXY,
    databaseUrl: e.DATABASE_URL,
    databasePoolSize: e.DATABASE_POOL_SIZE,
    databaseStatementTimeoutMs: e.DATABASE_STATEMENT_TIMEOUT_MS,
    embeddedDataDir: e.EMBEDDED_DATA_DIR,
    redisUrl: e.REDIS_URL,
    logLevel: e.LOG_LEVEL,
    bodyLimitBytes: parseByteSize(e.BODY_LIMIT),
    deviceImportMaxBytes: parseByteSize(e.DEVICE_IMPORT_MAX_BYTES),
    databasePooler: e.DATABASE_POOLER,
    maxJsonDepth: e.MAX_JSON_DEPTH,
    bundleMaxEntries: e.BUNDLE_MAX_ENTRIES,
    botsEnabled: e.BOTS_ENABLED === 'true',
    botWorkers: e.BOT_WORKERS,
    botMemoryMb: e.BOT_MEMORY_MB,
    botTimeoutMs: e.BOT_TIMEOUT_MS,
    botLogBytes: e.BOT_LOG_BYTES,
    botFetchAllowHosts: e.BOT_FETCH_ALLOW_HOSTS.split(',')
      .map((h) => h.trim().toLowerCase())
      .filter(Boolean),
    env: e.NODE_ENV,
    shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
    shutdownDelayMs: e.SHUTDOWN_DELAY_MS,
    metricsToken: e.METRICS_TOKEN,
    graphqlWarmup: e.GRAPHQL_WARMUP === 'true',
    smtpUrl: e.SMTP_URL,
    mailFrom: e.MAIL_FROM,
    twilio:
      e.TWILIO_ACCOUNT_SID && e.TWILIO_AUTH_TOKEN && e.TWILIO_FROM
        ? {
            accountSid: e.TWILIO_ACCOUNT_SID,
            authToken: e.TWILIO_AUTH_TOKEN,
            from: e.TWILIO_FROM,
            apiUrl: e.TWILIO_API_URL,
          }
        : undefined,
    smsSinkFile: e.SMS_SINK_FILE,
    twilioAuthToken: e.TWILIO_AUTH_TOKEN || undefined,
    accessTokenTtlSeconds: e.ACCESS_TOKEN_TTL_SECONDS,
    refreshTokenTtlDays: e.REFRESH_TOKEN_TTL_DAYS,
    signingKeyRotationDays: e.SIGNING_KEY_ROTATION_DAYS,
    authRateLimitPerMinute: e.AUTH_RATE_LIMIT_PER_MINUTE,
    marketplaceAnonymousPerMinute: e.MARKETPLACE_ANONYMOUS_RATE_LIMIT_PER_MINUTE,
    demoMode: e.DEMO_MODE === 'true',
    analyzeAfterWrites: e.ANALYZE_AFTER_WRITES,
    bulk: bulkConfigOf(e),
    triage: triageConfigOf(e),
    telehealth: telehealthConfigOf(e),
    uploads: uploadConfigOf(e, parseByteSize),
    requireProfiles: e.REQUIRE_PROFILES === 'none' ? [] : e.REQUIRE_PROFILES.split(',').map((t) => t.trim()),
  };
}
