import { isUuid } from '../auth/accounts/store';
import type { AccessTokenClaims } from '../auth/types';
import type { RepoContext } from '../storage/context';
import type { AccessCache } from './consent/access-cache';
import { GrantSet } from './consent/grant-set';
import type { LoadedGrants } from './consent/grants';
import { loadGrants } from './consent/grants';
import { stampAuthor } from './consent/stamp';
import type { ResourceScope } from './scope-types';
import type { Reach } from './smart-policy';
import { SmartPolicy } from './smart-policy';

export type PolicyContext = Pick<RepoContext, 'searchParams' | 'baseUrl' | 'db'>;

/**
 * The access policy of one verified access token: SMART scopes intersected with what the caller
 * may see of each patient. A patient sees their whole compartment; anyone else (providers,
 * guardians, research partners, apps, break-glass) sees only what a Consent currently grants —
 * nothing by default, admins included.
 */
export async function policyForToken(
  claims: AccessTokenClaims,
  scopes: readonly ResourceScope[],
  ctx: PolicyContext,
  cache: AccessCache
): Promise<SmartPolicy> {
  const ownPatient = claims.fhirUser?.startsWith('Patient/') ? claims.fhirUser.slice('Patient/'.length) : undefined;
  const now = Date.now();
  const needsGrants = scopes.some((s) => s.context !== 'system');
  const loaded = needsGrants
    ? await callerGrants(claims, ctx, cache, claims.roles?.includes('research-partner') ?? false, now)
    : undefined;
  const grants = loaded ? new GrantSet(loaded.grants, loaded.keys, now, ctx.searchParams) : undefined;
  const patientReach: Reach = claims.patient
    ? claims.patient === ownPatient
      ? { all: false, patientId: ownPatient, directory: true }
      : { all: false, directory: true, grants: grants?.forPatient(claims.patient) }
    : { all: false, directory: false };
  const userReach: Reach = { all: false, patientId: ownPatient, directory: true, grants };
  const provider = /^(Practitioner|PractitionerRole)\//.test(claims.fhirUser ?? '') ? claims.fhirUser : undefined;
  return new SmartPolicy(
    {
      scopes,
      patientReach,
      userReach,
      stamp: provider ? (resource) => stampAuthor(resource, { reference: provider }) : undefined,
    },
    ctx
  );
}

/** The account a token acts for, or undefined for a backend service's token (sub = client_id). */
export function accountIdOf(claims: AccessTokenClaims): string | undefined {
  return claims.sub !== claims.client_id && isUuid(claims.sub) ? claims.sub : undefined;
}

/**
 * The caller's grants, loaded once and cached until an access-relevant write (access-cache.ts).
 * `research` adds research opt-ins (research partners); the sharing operations ask without them.
 */
export function callerGrants(
  claims: AccessTokenClaims,
  ctx: PolicyContext,
  cache: Pick<AccessCache, 'get'>,
  research: boolean,
  now: number
): Promise<LoadedGrants> {
  return cache.get(`${claims.sub}|${claims.fhirUser ?? ''}|${claims.client_id}|${research}`, () =>
    loadGrants(
      ctx,
      { accountId: accountIdOf(claims), fhirUser: claims.fhirUser, clientId: claims.client_id, research },
      now
    )
  );
}
