import type { HaleRepository } from '../../storage/repository';
import type { ParsedEntry } from './entries';
import { lockUnmatched, prefetchIdentifierMatches } from './identifier-matches';
import { assertUniqueTargets, resolveIdentity } from './identity';
import { Names, identityMap, namesUnresolved, resolveConditionalReferences } from './rewrite';

/** Rewrites one entry's references with the map and performs it (process.ts). */
export type RunEntry = (e: ParsedEntry, names: Names) => Promise<void>;

/** A transaction of creates only (POST entries, conditional or not) may start writing early. */
export function writesEarly(entries: readonly ParsedEntry[]): boolean {
  return entries.every((e) => e.method === 'POST' && e.interaction === 'create');
}

/**
 * Runs a transaction of creates without first waiting for the database to resolve identities.
 * A plain create's new id needs no database, so every entry that names neither a conditional
 * create nor a conditional reference is written at once, while PostgreSQL looks up the
 * ifNoneExist matches (one prefetch query, queued first on the connection); the conditional
 * creates and the entries that name them follow once those are known. In a seed bundle that is
 * ~80 entries of 300, and PostgreSQL starts inserting ~1 ms sooner.
 *
 * The order of creates within a transaction does not matter (FHIR R4 http.html#trules), and the
 * outcome is the one resolving identities first would give: the searches of conditional creates and
 * conditional references leave out what this transaction has written (identity.ts matchAtMostTwo),
 * so they see the database as it was before it.
 */
export async function writeEarly(tx: HaleRepository, ordered: readonly ParsedEntry[], run: RunEntry): Promise<void> {
  const prefetched = prefetchIdentifierMatches(tx, ordered);
  prefetched.catch(() => undefined); // awaited below, unless an earlier entry fails first
  const conditional = ordered.filter((e) => e.entry.request?.ifNoneExist);
  const urls = conditional.flatMap((e) => (e.entry.fullUrl ? [e.entry.fullUrl] : []));
  const pending = new Names(new Map(urls.map((url) => [url, url])));
  const own = new Set<string>();
  for (const e of ordered) {
    if (!e.entry.request?.ifNoneExist) {
      e.target = { type: e.resourceType as string, id: tx.generateId() };
      own.add(`${e.target.type}/${e.target.id}`);
    }
  }
  const known = new Names(identityMap(ordered));
  const later: ParsedEntry[] = [];
  for (const e of ordered) {
    if (e.entry.request?.ifNoneExist || namesUnresolved(e.entry.resource, pending)) {
      later.push(e);
    } else {
      await run(e, known);
    }
  }
  await prefetched;
  await lockUnmatched(tx, conditional, own);
  for (const e of conditional) {
    await resolveIdentity(tx, e, own);
  }
  assertUniqueTargets(ordered);
  noteMatches(tx, ordered);
  const map = identityMap(ordered);
  await resolveConditionalReferences(tx, later, map, own);
  const names = new Names(map);
  for (const e of later) {
    await run(e, names);
  }
}

/**
 * An ifNoneExist match is reused, not written; no other entry may target it (assertUniqueTargets),
 * so nothing in this bundle deletes it and references to it need no lookup at flush.
 */
export function noteMatches(tx: HaleRepository, entries: readonly ParsedEntry[]): void {
  tx.noteFound(entries.flatMap((e) => (e.existing && e.target ? [`${e.target.type}/${e.target.id}`] : [])));
}
