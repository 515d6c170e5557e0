import type { Redis } from 'ioredis';
import type { Database } from '../../db/database';
import type { LoadedGrants } from './grants';

/** Writes of these types can change someone's grants. */
export const ACCESS_TYPES: ReadonlySet<string> = new Set([
  'Consent',
  'CareTeam',
  'PractitionerRole',
  'Practitioner',
  'Organization',
  'Patient',
  'RelatedPerson',
  // An active order grants its performer the order (order-grants.ts).
  'ServiceRequest',
]);

/** The shared generation's key, one per database: deployments (and test databases) may share a Redis. */
const generationKey = (namespace: string): string => `hale:{${namespace}}:access:generation`;
/** A safety net, not the mechanism: entries are dropped on every generation change anyway. */
const MAX_AGE_MS = 60_000;
const MAX_ENTRIES = 10_000;

interface Entry {
  generation: string;
  loadedAt: number;
  grants: LoadedGrants;
}

/**
 * Caches each caller's loaded grants under a generation number. Every committed write of an
 * access-relevant type (and every break-glass declaration) bumps the generation — in Redis when
 * configured, so every replica sees it — before the writing request answers; every request reads
 * the current generation first. So a revocation is in force for the very next request on any
 * replica, and a cached decision is never used across a change.
 *
 * Without Redis (it is down, or this replica cannot reach it) there is no shared generation to trust:
 * nothing is cached or served from the cache, every request loads its grants from PostgreSQL, and a
 * write that could not bump Redis still answers (it has committed). When the connection is back
 * (`ready`), the replica drops what it cached and bumps once more, so bumps that Redis missed meanwhile
 * reach every other replica. One residue, documented in docs/consent.md: a replica cut off from Redis
 * while the others still reach it cannot tell them of its writes until it reconnects; they drop their
 * cached grants at the latest MAX_AGE_MS later.
 */
export class AccessCache {
  private localGeneration = 0;
  private readonly entries = new Map<string, Entry>();
  private readonly generationKey: string;

  constructor(
    private readonly redis: Redis | undefined,
    db: Database,
    namespace = 'hale'
  ) {
    this.generationKey = generationKey(namespace);
    db.onCommit(async (types) => {
      if ([...types].some((t) => ACCESS_TYPES.has(t))) {
        await this.bump();
      }
    });
    redis?.on('ready', () => {
      this.forget();
      redis.incr(this.generationKey).catch(() => undefined); // down again already: the next 'ready' bumps
    });
  }

  async bump(): Promise<void> {
    this.forget();
    await this.redis?.incr(this.generationKey).catch(() => undefined); // committed anyway: see the class comment
  }

  private forget(): void {
    this.localGeneration++;
    this.entries.clear();
  }

  /** The generation to cache under; undefined when Redis is configured but does not answer. */
  private async generation(): Promise<string | undefined> {
    if (!this.redis) {
      return String(this.localGeneration);
    }
    try {
      const shared = await this.redis.get(this.generationKey);
      return `${shared ?? '0'}:${this.localGeneration}`;
    } catch {
      this.entries.clear();
      return undefined;
    }
  }

  async get(key: string, load: () => Promise<LoadedGrants>): Promise<LoadedGrants> {
    const generation = await this.generation();
    if (generation === undefined) {
      return load();
    }
    const now = Date.now();
    const hit = this.entries.get(key);
    if (hit && hit.generation === generation && now - hit.loadedAt < MAX_AGE_MS) {
      return hit.grants;
    }
    const grants = await load();
    if (this.entries.size >= MAX_ENTRIES) {
      this.entries.clear();
    }
    // Only cache when nothing changed while loading; otherwise the next request loads again.
    if ((await this.generation()) === generation) {
      this.entries.set(key, { generation, loadedAt: now, grants });
    }
    return grants;
  }
}
