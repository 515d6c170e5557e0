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
]);

const GENERATION_KEY = 'hale:access:generation';
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
 */
export class AccessCache {
  private localGeneration = 0;
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly redis: Redis | undefined,
    db: Database
  ) {
    db.onCommit(async (types) => {
      if ([...types].some((t) => ACCESS_TYPES.has(t))) {
        await this.bump();
      }
    });
  }

  async bump(): Promise<void> {
    this.localGeneration++;
    this.entries.clear();
    await this.redis?.incr(GENERATION_KEY);
  }

  private async generation(): Promise<string> {
    if (!this.redis) {
      return String(this.localGeneration);
    }
    const shared = await this.redis.get(GENERATION_KEY);
    return `${shared ?? '0'}:${this.localGeneration}`;
  }

  async get(key: string, load: () => Promise<LoadedGrants>): Promise<LoadedGrants> {
    const generation = await this.generation();
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
