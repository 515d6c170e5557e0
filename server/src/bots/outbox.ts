import type { PreCommitHook, WrittenVersion } from '../db/database';
import type { Sql } from '../db/sql';
import { and, join, sql } from '../db/sql';
import type { RepoContext } from '../storage/context';
import type { ActiveSubscription, Interaction } from './subscription-model';
import { compileCriteria } from './subscription-model';
import type { SubscriptionRegistry } from './subscription-registry';

/**
 * The subscription outbox, as a pre-commit hook: every version a transaction wrote that an active
 * Subscription matches becomes a `bot_job` row in the same transaction, so a committed write always
 * fires and a rolled-back one never does. Matching is the SQL search itself (the Subscription's
 * criteria compiled like any search, over the rows just written), in one INSERT per transaction; a
 * transaction that wrote no subscribed type costs a Map lookup per version and nothing in SQL.
 *
 * Within one transaction the last version of a resource is the one matched (an entry updated twice
 * in a bundle fires once). A delete matches on the resource type and interaction only: its index
 * rows are gone with it.
 */
export function subscriptionOutbox(
  registry: SubscriptionRegistry,
  ctx: Pick<RepoContext, 'searchParams' | 'baseUrl' | 'db'>
): PreCommitHook {
  return async (tx, written) => {
    if (registry.empty) {
      return;
    }
    const selects: Sql[] = [];
    for (const [type, versions] of subscribedByType(registry, written)) {
      for (const sub of registry.forType(type)) {
        selects.push(...matchesOf(ctx, sub, type, versions));
      }
    }
    if (selects.length === 0) {
      return;
    }
    await tx.query(sql`INSERT INTO bot_job
        (key, kind, subscription_id, bot_id, endpoint, resource_type, resource_id, version_id, interaction)
      ${join(selects, ' UNION ALL ')}
      ON CONFLICT (key) DO NOTHING`);
  };
}

function subscribedByType(
  registry: SubscriptionRegistry,
  written: readonly WrittenVersion[]
): Map<string, WrittenVersion[]> {
  const byType = new Map<string, WrittenVersion[]>();
  for (const v of written) {
    if (registry.forType(v.type).length > 0) {
      const list = byType.get(v.type);
      if (list) {
        list.push(v);
      } else {
        byType.set(v.type, [v]);
      }
    }
  }
  return byType;
}

const interactionOf = (v: WrittenVersion): Interaction => (v.deleted ? 'delete' : v.replaces ? 'update' : 'create');

/** SELECTs of the bot_job rows this Subscription adds for these versions of its type. */
function matchesOf(
  ctx: Pick<RepoContext, 'searchParams' | 'baseUrl' | 'db'>,
  sub: ActiveSubscription,
  type: string,
  versions: readonly WrittenVersion[]
): Sql[] {
  const wanted = versions.filter((v) => !sub.interactions || sub.interactions.has(interactionOf(v)));
  const live = [...new Set(wanted.filter((v) => !v.deleted).map((v) => v.id))];
  const deletes = wanted.filter((v) => v.deleted);
  const botId = sub.channel.kind === 'bot' ? sub.channel.botId : null;
  const endpoint = sub.channel.kind === 'url' ? sub.channel.endpoint : null;
  const keyPrefix = `sub:${sub.id}:${type}/`;
  const out: Sql[] = [];
  if (live.length > 0) {
    const created = wanted.filter((v) => !v.deleted && !v.replaces).map((v) => v.id);
    out.push(sql`SELECT ${keyPrefix} || r.id || '/_history/' || r.version_id, 'subscription', ${sub.id}::text,
        ${botId}::text, ${endpoint}::text, r.type, r.id, r.version_id,
        CASE WHEN r.version_id = 1 OR r.id = ANY(${created}::text[]) THEN 'create' ELSE 'update' END
      FROM resource r
      WHERE ${and([
        sql`r.type = ${type}`,
        sql`r.id = ANY(${live}::text[])`,
        sql`NOT r.deleted`,
        ...compileCriteria(ctx, type, 'r', sub.filters),
      ])}`);
  }
  for (const v of deletes) {
    out.push(sql`SELECT ${`${keyPrefix}${v.id}/_history/${v.versionId}`}::text, 'subscription', ${sub.id}::text,
        ${botId}::text, ${endpoint}::text, ${type}::text, ${v.id}::text, ${v.versionId}::int, 'delete'`);
  }
  return out;
}
