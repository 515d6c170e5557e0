import type { AccessTokenClaims } from '../auth/types';
import type { RepoContext } from '../storage/context';
import type { ResourceScope } from './scope-types';
import type { Reach } from './smart-policy';
import { SmartPolicy } from './smart-policy';

/**
 * The access policy of one verified access token. Until patient Consent is enforced (next
 * issue), a user's own reach is: their own compartment for a patient user, and the directory
 * for everybody; providers see no patient's data through user/ scopes yet (deny by default).
 */
export function policyForToken(
  claims: AccessTokenClaims,
  scopes: readonly ResourceScope[],
  ctx: Pick<RepoContext, 'searchParams' | 'baseUrl' | 'db'>
): SmartPolicy {
  const ownPatient = claims.fhirUser?.startsWith('Patient/') ? claims.fhirUser.slice('Patient/'.length) : undefined;
  const patientReach: Reach = claims.patient
    ? { all: false, patientId: claims.patient, directory: true }
    : { all: false, directory: false };
  const userReach: Reach = { all: false, patientId: ownPatient, directory: true };
  return new SmartPolicy({ scopes, patientReach, userReach }, ctx);
}
