import { policyForToken } from '../access/caller-policy';
import type { AccessCache } from '../access/consent/access-cache';
import type { ResourceScope } from '../access/scope-types';
import { guardAuditEvents, mayCreateAuditEvents } from '../audit/immutable';
import { parseScopes } from '../auth/oauth';
import type { AccessTokenClaims } from '../auth/types';
import type { Database } from '../db/database';
import type { AccessPolicy } from '../storage/access';
import type { RepoContext } from '../storage/context';
import type { SearchParamRegistry } from '../storage/search-params';

export interface PolicyDeps {
  db: Database;
  searchParams: SearchParamRegistry;
  baseUrl: string;
  accessCache: AccessCache;
}

/**
 * The access policy of the token an export was started with, built exactly as app.ts builds a
 * request's: its scopes, and the grants (Consents, research opt-ins) in force now. The worker calls
 * it for every page, so a revoked Consent holds from the next page of a running export.
 */
export async function policyOfClaims(claims: AccessTokenClaims, deps: PolicyDeps): Promise<AccessPolicy> {
  const scopes = parseScopes(claims.scope).resources;
  const policy = await policyForToken(claims, scopes, deps, deps.accessCache);
  return guardAuditEvents(policy, mayCreateAuditEvents(scopes));
}

/** A repository context for the search compiler (chains and _has in a _typeFilter apply the same policy). */
export function contextOf(deps: PolicyDeps, access: AccessPolicy, strict: boolean): RepoContext {
  return {
    db: deps.db,
    access,
    searchParams: deps.searchParams,
    baseUrl: deps.baseUrl,
    validate: false,
    strictSearch: strict,
  };
}

/** True when some read or search scope of the token covers this type (output files are fetched with a token that does). */
export function scopesCover(scopes: readonly ResourceScope[], resourceType: string): boolean {
  return scopes.some(
    (s) =>
      (s.resourceType === '*' || s.resourceType === resourceType) && (s.permissions.has('r') || s.permissions.has('s'))
  );
}

/** May this policy search the type at all (no 403)? */
export function maySearch(policy: AccessPolicy, resourceType: string): boolean {
  try {
    policy.checkInteraction(resourceType, 'search');
    return true;
  } catch {
    return false;
  }
}
