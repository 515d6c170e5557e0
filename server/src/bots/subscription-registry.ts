import type { Subscription } from '@medplum/fhirtypes';
import type { Database } from '../db/database';
import { sql } from '../db/sql';
import type { Logger } from '../logger';
import type { SearchParamRegistry } from '../storage/search-params';
import type { ActiveSubscription } from './subscription-model';
import { parseSubscription } from './subscription-model';

/** How stale another replica's view of the Subscriptions may be: it reloads this often. */
const RELOAD_MS = 1_000;

/**
 * The active Subscriptions, by resource type, held in memory so the write path can tell in
 * O(1) whether what a transaction wrote can fire anything. Reloaded right after a commit that
 * wrote a Subscription on this replica, and every second for writes made on other replicas.
 */
export class SubscriptionRegistry {
  private byType = new Map<string, ActiveSubscription[]>();
  private loadedAt = 0;
  private loading: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly deps: { db: Database; searchParams: SearchParamRegistry; baseUrl: string; logger: Logger }
  ) {
    deps.db.onCommit(async (types) => {
      if (types.has('Subscription')) {
        await this.reload();
      }
    });
  }

  async start(): Promise<void> {
    await this.reload();
    this.timer = setInterval(() => {
      this.reload().catch((err: unknown) => this.deps.logger.warn({ err }, 'reloading Subscriptions failed'));
    }, RELOAD_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** The active Subscriptions on this type (empty when none). */
  forType(resourceType: string): readonly ActiveSubscription[] {
    return this.byType.get(resourceType) ?? [];
  }

  /** True when some active Subscription delivers to a Bot of this server. */
  hasBotChannel(): boolean {
    return [...this.byType.values()].some((subs) => subs.some((s) => s.channel.kind === 'bot'));
  }

  get empty(): boolean {
    return this.byType.size === 0;
  }

  get(id: string): ActiveSubscription | undefined {
    for (const subs of this.byType.values()) {
      const found = subs.find((s) => s.id === id);
      if (found) {
        return found;
      }
    }
    return undefined;
  }

  /** Loads every active Subscription (one at a time: concurrent callers share the load). */
  reload(): Promise<void> {
    this.loading ??= this.load().finally(() => {
      this.loading = undefined;
    });
    return this.loading;
  }

  private async load(): Promise<void> {
    const rows = await this.deps.db.query<{ content: string }>(
      sql`SELECT content FROM resource WHERE type = 'Subscription' AND NOT deleted
            AND content::jsonb ->> 'status' = 'active'`
    );
    const byType = new Map<string, ActiveSubscription[]>();
    for (const { content } of rows) {
      const sub = JSON.parse(content) as Subscription;
      try {
        const parsed = parseSubscription(sub, this.deps);
        byType.set(parsed.resourceType, [...(byType.get(parsed.resourceType) ?? []), parsed]);
      } catch (err) {
        // Written before a rule it breaks existed (or its criteria name a parameter since removed).
        this.deps.logger.warn({ subscription: sub.id, err: (err as Error).message }, 'Subscription ignored');
      }
    }
    this.byType = byType;
    this.loadedAt = Date.now();
  }

  get ageMs(): number {
    return Date.now() - this.loadedAt;
  }
}
