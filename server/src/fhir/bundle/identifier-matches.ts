import type { Resource } from '@medplum/fhirtypes';
import type { Sql } from '../../db/sql';
import { or, sql } from '../../db/sql';
import { accessClause } from '../../storage/read';
import type { HaleRepository } from '../../storage/repository';
import type { ParsedEntry } from './entries';
import { criteriaLockKey } from './identity';

interface Lookup {
  entry: ParsedEntry;
  type: string;
  sp: number;
  system: string;
  code: string;
}

/**
 * The matches of every `ifNoneExist: identifier=system|value` of a transaction, found with ONE
 * query instead of one search each: an EHR bundle names its practitioners and organizations this
 * way (the seed's bundles 25 times), and the searches, one round trip after the other, took
 * ~4 ms of every bundle before its first write. The query asks what the search would:
 * `identifier` token rows with that system and value, of a current resource of the type that the
 * caller may read. Other criteria are left to the search (identity.ts).
 */
export async function prefetchIdentifierMatches(repo: HaleRepository, entries: readonly ParsedEntry[]): Promise<void> {
  const lookups = entries.map((e) => lookupOf(repo, e)).filter((l): l is Lookup => l !== undefined);
  if (lookups.length < 2) {
    return; // one search is as cheap as this query
  }
  const types = [...new Set(lookups.map((l) => l.type))];
  for (const type of types) {
    repo.ctx.access.checkInteraction(type, 'search');
  }
  const visible: Sql = or(types.map((type) => sql`(r.type = ${type} AND ${accessClause(repo.ctx.access, 'r', type)})`));
  const rows = await repo.queryable.query<{ ord: string; id: string; content: string }>(
    sql`SELECT DISTINCT q.ord, r.id, r.content
      FROM unnest(${lookups.map((l) => l.type)}::text[], ${lookups.map((l) => l.sp)}::int[],
        ${lookups.map((l) => l.system)}::text[], ${lookups.map((l) => l.code)}::text[])
        WITH ORDINALITY AS q(type, sp, system, code, ord)
      JOIN idx_token i ON i.sp = q.sp AND i.code = q.code AND i.system = q.system
      JOIN resource r ON r.rid = i.rid AND r.type = q.type
      WHERE NOT r.deleted AND ${visible}`
  );
  const found = new Map<number, Resource[]>(lookups.map((_, i) => [i + 1, []]));
  for (const row of rows) {
    found.get(Number(row.ord))?.push(JSON.parse(row.content) as Resource);
  }
  lookups.forEach((l, i) => {
    l.entry.prefetched = found.get(i + 1);
  });
}

/**
 * The creates whose prefetched ifNoneExist found nothing are about to create: as singleMatch would for each, their
 * criteria are locked (all in one statement, in key order, so two bundles naming the same identifiers cannot
 * deadlock) and the prefetch is read again under the locks, leaving out what this transaction wrote (`own`). A
 * bot's transaction of a hundred keyed creates took two round trips per entry for this; now it takes two in all.
 */
export async function lockUnmatched(
  repo: HaleRepository,
  entries: readonly ParsedEntry[],
  own?: ReadonlySet<string>
): Promise<void> {
  const unmatched = entries.filter(
    (e) => e.prefetched?.length === 0 && e.resourceType && e.entry.request?.ifNoneExist && !e.criteriaLocked
  );
  if (unmatched.length < 2) {
    return; // singleMatch locks and searches one as cheaply
  }
  const keys = [
    ...new Set(unmatched.map((e) => criteriaLockKey(e.resourceType as string, e.entry.request?.ifNoneExist ?? ''))),
  ].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
  await repo.queryable.query(
    sql`SELECT count(pg_advisory_xact_lock(k)) FROM (SELECT unnest(${keys}::bigint[]) AS k ORDER BY 1) AS locks`
  );
  await prefetchIdentifierMatches(repo, unmatched);
  for (const e of unmatched) {
    e.prefetched = (e.prefetched ?? []).filter((r) => !own?.has(`${r.resourceType}/${r.id}`));
    e.criteriaLocked = true;
  }
}

/** A create whose ifNoneExist is exactly one `identifier=system|value` (no modifier, no alternatives, no escapes). */
function lookupOf(repo: HaleRepository, e: ParsedEntry): Lookup | undefined {
  const criteria = e.interaction === 'create' ? e.entry.request?.ifNoneExist : undefined;
  const type = e.resourceType;
  if (!criteria || !type) {
    return undefined;
  }
  const params = [...new URLSearchParams(criteria)];
  const [name, value] = params[0] ?? [];
  const sp = repo.ctx.searchParams.id(type, 'identifier');
  if (params.length !== 1 || name !== 'identifier' || !value || sp === undefined || /[\\,$]/.test(value)) {
    return undefined;
  }
  const bar = value.indexOf('|');
  const system = value.slice(0, bar);
  const code = value.slice(bar + 1);
  return bar > 0 && code !== '' && !code.includes('|') ? { entry: e, type, sp, system, code } : undefined;
}
