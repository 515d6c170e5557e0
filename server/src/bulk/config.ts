import { z } from 'zod';

/** The BULK_* environment variables, merged into the server's one config schema (config.ts). */
export const BULK_ENV = {
  BULK_DIR: z.string().min(1).default('.hale-data/bulk'),
  BULK_STORAGE: z
    .string()
    .refine(
      (v) => v === 'local',
      'only local (files under BULK_DIR) is built; S3-compatible storage (s3://…) is not yet supported'
    )
    .default('local'),
  BULK_MAX_RUNNING: z.coerce.number().int().min(1).max(1000).default(4),
  BULK_MAX_PER_CLIENT: z.coerce.number().int().min(1).max(100).default(2),
  BULK_WORKERS: z.coerce.number().int().min(0).max(64).default(2),
  BULK_EXPIRY_HOURS: z.coerce
    .number()
    .positive()
    .max(24 * 365)
    .default(24),
  BULK_FILE_MAX_RESOURCES: z.coerce.number().int().min(1).default(100_000),
  BULK_PAGE_SIZE: z.coerce.number().int().min(1).max(10_000).default(1000),
  BULK_MIN_POLL_MS: z.coerce.number().int().min(0).max(600_000).default(1000),
};

type BulkEnv = { [K in keyof typeof BULK_ENV]: z.infer<(typeof BULK_ENV)[K]> };

export interface BulkConfig {
  /** Where export files are written (one directory per export). */
  dir: string;
  /** Exports accepted and not yet finished, all clients together; more answers 429. */
  maxRunning: number;
  /** The same, per client and user. */
  maxPerClient: number;
  /** Exports this replica runs at once (0: it runs none, only answers the HTTP side). */
  workers: number;
  expiryHours: number;
  /** A type's output is split into files of at most this many resources. */
  fileMaxResources: number;
  /** Rows read per query (a keyset page); the access policy is rebuilt for every page. */
  pageSize: number;
  /** A status request sooner than this after the last one for the same export answers 429. */
  minPollMs: number;
}

export function bulkConfigOf(e: BulkEnv): BulkConfig {
  return {
    dir: e.BULK_DIR,
    maxRunning: e.BULK_MAX_RUNNING,
    maxPerClient: e.BULK_MAX_PER_CLIENT,
    workers: e.BULK_WORKERS,
    expiryHours: e.BULK_EXPIRY_HOURS,
    fileMaxResources: e.BULK_FILE_MAX_RESOURCES,
    pageSize: e.BULK_PAGE_SIZE,
    minPollMs: e.BULK_MIN_POLL_MS,
  };
}
