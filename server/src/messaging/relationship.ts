import type { Grant } from '../access/consent/model';
import { covers } from '../access/consent/model';
import { loadGrants } from '../access/consent/grants';
import { isOrderGrant } from '../access/consent/order-grants';
import type { PolicyContext } from '../access/caller-policy';
import type { Queryable } from '../db/database';

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
