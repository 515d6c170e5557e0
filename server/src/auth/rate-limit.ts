import { OperationOutcomeError, tooManyRequests } from '@medplum/core';
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { RateLimiterAbstract } from 'rate-limiter-flexible';

/** A 429 that knows when to come back (sent as Retry-After). */
export class RateLimitedError extends OperationOutcomeError {
  readonly retryAfterSeconds: number;

  constructor(msBeforeNext: number) {
    super(tooManyRequests);
    this.retryAfterSeconds = Math.max(1, Math.ceil(msBeforeNext / 1000));
  }
}

/**
 * Rate limits for the auth endpoints: shared through Redis when Hale runs as several
 * replicas, in-process when single-node. Keys should combine the endpoint with the client
 * address and, where known, the account or email (hashed), so one attacker cannot lock
 * out everybody and one victim is not brute-forced from many addresses.
 */
export class RateLimits {
  private readonly limiters = new Map<string, RateLimiterAbstract>();

  constructor(
    private readonly redis: Redis | undefined,
    private readonly defaultPerMinute: number,
    /** Keeps the counters of deployments (and test databases) sharing one Redis apart: the database's name. */
    private readonly namespace = 'hale'
  ) {}

  /** The limiter allowing `points` per `durationSeconds` (a fixed window from the first point), one per name and size. */
  limiter(name: string, points: number, durationSeconds = 60): RateLimiterAbstract {
    const key = `${name}:${points}:${durationSeconds}`;
    let limiter = this.limiters.get(key);
    if (!limiter) {
      const opts = { keyPrefix: `hale:{${this.namespace}}:rl:${name}`, points, duration: durationSeconds };
      // With Redis down the limits hold per replica (the insurance limiter) instead of failing the request.
      limiter = this.redis
        ? new RateLimiterRedis({
            ...opts,
            storeClient: this.redis,
            useRedisPackage: false,
            insuranceLimiter: new RateLimiterMemory(opts),
          })
        : new RateLimiterMemory(opts);
      this.limiters.set(key, limiter);
    }
    return limiter;
  }

  /** Counts one attempt; throws a 429 RateLimitedError once `perMinute` is exceeded. */
  async consume(name: string, key: string, perMinute = this.defaultPerMinute): Promise<RateLimiterRes> {
    return consumeOrThrow(this.limiter(name, perMinute), key);
  }
}

/** Counts one point; past the limit, a 429 with the time until the window ends. Store failures are rethrown as they are. */
export async function consumeOrThrow(limiter: RateLimiterAbstract, key: string): Promise<RateLimiterRes> {
  try {
    return await limiter.consume(key);
  } catch (err) {
    if (err instanceof RateLimiterRes) {
      throw new RateLimitedError(err.msBeforeNext);
    }
    throw err; // the store failed: let the caller's error handling log it
  }
}
