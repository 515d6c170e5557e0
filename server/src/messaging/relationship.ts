import type { Grant } from '../access/consent/model';
import { covers } from '../access/consent/model';
import { loadGrants } from '../access/consent/grants';
import { isOrderGrant } from '../access/consent/order-grants';
import type { PolicyContext } from '../access/caller-policy';
import type { Queryable } from '../db/database';
import { forbiddenBecause } from '../fhir/errors';
import type { SchedulingContext } from '../scheduling/caller';

/** Where grants are read from: inside a workflow's transaction, its own connection (a second one could wait on the pool). */
export type RelationshipDeps = Omit<PolicyContext, 'db'> & { db: Queryable };

/**
 * Whether a provider and a patient have an active relationship: a Consent (or a CareTeam the
 * patient made) that currently lets the provider read the patient's record. Break-glass is an
 * emergency read, not a relationship, and opens no thread; nor is an order a partner is to carry
 * out (order-grants.ts). Loaded at every send and read of a thread, so a revoked Consent or an
 * ended one-off visit stops the conversation on the next request.
 */
export async function activeRelationship(
  ctx: RelationshipDeps,
  provider: string,
  patientId: string,
  now: number
): Promise<boolean> {
  const { grants } = await loadGrants(ctx, { fhirUser: provider, clientId: 'hale-messaging', research: false }, now);
  return grants.some(
    (g: Grant) =>
      g.patientId === patientId &&
      g.read &&
      covers(g.valid, now) &&
      !g.basis.startsWith('break-glass') &&
      !isOrderGrant(g)
  );
}

/**
 * The provider a workflow step acts for (their fhirUser), after checking they have an active
 * relationship with the patient; 403 for anyone else. `what` names the step ("Orders are placed").
 */
export async function relatedProvider(ctx: SchedulingContext, patientId: string, what: string): Promise<string> {
  const me = ctx.caller.claims.fhirUser ?? '';
  if (!/^(Practitioner|PractitionerRole)\//.test(me)) {
    throw forbiddenBecause(`${what} by a provider`);
  }
  const { db, searchParams, baseUrl } = ctx.system.ctx;
  if (!(await activeRelationship({ db, searchParams, baseUrl }, me, patientId, ctx.now.getTime()))) {
    throw forbiddenBecause(`${what} only for a patient whose Consent shares the record with the provider`);
  }
  return me;
}
