import { OperationOutcomeError, badRequest, multipleMatches, preconditionFailed } from '@medplum/core';
import type { Resource } from '@medplum/fhirtypes';
import { createHash } from 'node:crypto';
import { sql } from '../../db/sql';
import type { HaleRepository } from '../../storage/repository';
import { parseHaleSearch } from '../search-request';
import type { ParsedEntry } from './entries';
import { entryError } from './entries';

/**
 * Serializes conditional operations on the same criteria across concurrent transactions
 * (two bundles "creating the same Organization if none exists" must not both create it),
 * without SERIALIZABLE isolation: a transaction-scoped advisory lock per (type, query).
 */
export async function lockCriteria(repo: HaleRepository, type: string, query: string): Promise<void> {
  await repo.queryable.query(sql`SELECT pg_advisory_xact_lock(${criteriaLockKey(type, query)}::bigint)`);
}

/** The advisory lock key of conditional criteria (lockCriteria, and lockUnmatched for many at once). */
export function criteriaLockKey(type: string, query: string): string {
  return createHash('sha256').update(`${type}?${query}`).digest().readBigInt64BE(0).toString();
}

/**
 * Up to two matches of conditional criteria. `own` (`Type/id`) are resources this transaction has
 * written already (early-writes.ts): they are left out, so the answer is the one the criteria get
 * before the transaction, as when nothing is written before identities are resolved. The search
 * asks for as many more as could be left out, so that two other matches are still seen.
 */
export async function matchAtMostTwo(
  repo: HaleRepository,
  type: string,
  query: string,
  own?: ReadonlySet<string>
): Promise<Resource[]> {
  const request = parseHaleSearch(type, Object.fromEntries(groupParams(new URLSearchParams(query))));
  const prefix = `${type}/`;
  let ownOfType = 0;
  for (const key of own ?? []) {
    ownOfType += key.startsWith(prefix) ? 1 : 0;
  }
  const matches = await repo.searchResources({ ...request, count: 2 + ownOfType, sortRules: undefined, total: 'none' });
  return ownOfType === 0 ? matches : matches.filter((m) => !own?.has(prefix + m.id)).slice(0, 2);
}

function groupParams(params: URLSearchParams): [string, string[]][] {
  const map = new Map<string, string[]>();
  for (const [k, v] of params) {
    map.set(k, [...(map.get(k) ?? []), v]);
  }
  return [...map.entries()];
}

/**
 * Decides what each write entry acts on: new ids for creates, the match of an ifNoneExist
 * (reused instead of created), the single match of a conditional update/patch/delete.
 * Runs inside the transaction, so the decisions and the writes commit together.
 */
export async function resolveIdentity(repo: HaleRepository, e: ParsedEntry, own?: ReadonlySet<string>): Promise<void> {
  const type = e.resourceType;
  if (!type) {
    return;
  }
  if (e.interaction === 'create') {
    const ifNoneExist = e.entry.request?.ifNoneExist;
    const match = ifNoneExist ? await singleMatch(repo, e, type, ifNoneExist, 'create', own) : undefined;
    if (match) {
      e.existing = match;
      e.target = { type, id: match.id as string };
      return;
    }
    e.target = { type, id: repo.generateId() };
    return;
  }
  if (e.interaction !== 'update' && e.interaction !== 'patch' && e.interaction !== 'delete') {
    return;
  }
  if (e.params.id) {
    e.target = { type, id: e.params.id };
    return;
  }
  // Conditional: [type]?query
  const match = await singleMatch(repo, e, type, e.query, e.interaction);
  if (match?.id) {
    e.target = { type, id: match.id };
    return;
  }
  if (e.interaction === 'update') {
    if (e.entry.resource?.id) {
      throw entryError(
        e.index,
        badRequest('A conditional update that matches nothing creates the resource: it may not carry an id')
      );
    }
    e.target = { type, id: repo.generateId() };
  } else if (e.interaction === 'delete') {
    e.noop = true;
  } else {
    throw entryError(e.index, badRequest(`Conditional PATCH ${e.path}?${e.query} matched no resource`));
  }
}

/**
 * The one resource matching conditional criteria, or undefined when none does. Optimistic:
 * most conditional entries match something (the clinic every bundle names), and those need no
 * lock. Only when nothing matches — the entry is about to create — is the criteria locked and
 * searched again, so two transactions cannot both create "the" resource, and bundles that
 * merely reuse it never wait for each other.
 */
async function singleMatch(
  repo: HaleRepository,
  e: ParsedEntry,
  type: string,
  query: string,
  interaction: string,
  own?: ReadonlySet<string>
): Promise<Resource | undefined> {
  let matches = e.prefetched ?? (await matchAtMostTwo(repo, type, query, own));
  if (matches.length === 0 && !e.criteriaLocked) {
    await lockCriteria(repo, type, query);
    matches = await matchAtMostTwo(repo, type, query, own);
  }
  if (matches.length > 1) {
    throw entryError(e.index, interaction === 'delete' ? preconditionFailed : multipleMatches);
  }
  return matches[0];
}

export function assertUniqueTargets(entries: readonly ParsedEntry[]): void {
  const seen = new Map<string, number>();
  for (const e of entries) {
    if (!e.target || e.existing) {
      continue;
    }
    const key = `${e.target.type}/${e.target.id}`;
    const first = seen.get(key);
    if (first !== undefined) {
      throw entryError(
        e.index,
        badRequest(`${key} is also the subject of Bundle.entry[${first}]; a transaction may touch a resource once`)
      );
    }
    seen.set(key, e.index);
  }
}

export { OperationOutcomeError };
