import { OperationOutcomeError, tooManyRequests } from '@medplum/core';
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis } from 'rate-limiter-flexible';
import type { RateLimiterAbstract } from 'rate-limiter-flexible';

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
    private readonly defaultPerMinute: number
  ) {}

  private limiter(name: string, perMinute: number): RateLimiterAbstract {
    const key = `${name}:${perMinute}`;
    let limiter = this.limiters.get(key);
    if (!limiter) {
      const opts = { keyPrefix: `hale-rl-${name}`, points: perMinute, duration: 60 };
      limiter = this.redis
        ? new RateLimiterRedis({ ...opts, storeClient: this.redis, useRedisPackage: false })
        : new RateLimiterMemory(opts);
      this.limiters.set(key, limiter);
    }
    return limiter;
  }

  /** Counts one attempt; throws a 429 OperationOutcomeError once `perMinute` is exceeded. */
  async consume(name: string, key: string, perMinute = this.defaultPerMinute): Promise<void> {
    try {
      await this.limiter(name, perMinute).consume(key);
    } catch (err) {
      if (err instanceof Error) {
        throw err; // the store failed: let the caller's error handling log it
      }
      throw new OperationOutcomeError(tooManyRequests);
    }
  }
}
