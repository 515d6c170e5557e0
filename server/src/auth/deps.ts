import type { Redis } from 'ioredis';
import type { HaleConfig } from '../config';
import type { Database } from '../db/database';
import type { Logger } from '../logger';
import type { HaleRepository } from '../storage/repository';
import type { RateLimits } from './rate-limit';

/** What the account and OAuth routes need from the running server. */
export interface AuthDeps {
  config: HaleConfig;
  db: Database;
  logger: Logger;
  redis: Redis | undefined;
  rateLimits: RateLimits;
  /** A FHIR repository acting as the trusted system (creating a new user's Patient, a provider's Task …). */
  systemRepository(): HaleRepository;
}
