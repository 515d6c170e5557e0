import type { AccessTokenClaims } from '../auth/types';
import type { RepoContext } from '../storage/context';
import type { AccessCache } from './consent/access-cache';
import { GrantSet } from './consent/grant-set';
import { loadGrants } from './consent/grants';
import { stampAuthor } from './consent/stamp';
import type { ResourceScope } from './scope-types';
import type { Reach } from './smart-policy';
import { SmartPolicy } from './smart-policy';

type PolicyContext = Pick<RepoContext, 'searchParams' | 'baseUrl' | 'db'>;

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
    ? await cache.get(
        `${claims.sub}|${claims.fhirUser ?? ''}|${claims.client_id}|${(claims.roles ?? []).join(',')}`,
        () =>
          loadGrants(
            ctx,
            {
              accountId: claims.sub !== claims.client_id && isUuid(claims.sub) ? claims.sub : undefined,
              fhirUser: claims.fhirUser,
              clientId: claims.client_id,
              research: claims.roles?.includes('research-partner') ?? false,
            },
            now
          )
      )
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

function isUuid(s: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(s);
}
