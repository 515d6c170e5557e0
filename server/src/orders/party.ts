import type { WithId } from '@medplum/core';
import { OperationOutcomeError, isNotFound, notFound } from '@medplum/core';
import type { ServiceRequest } from '@medplum/fhirtypes';
import { loadGrants } from '../access/consent/grants';
import { forbiddenBecause } from '../fhir/errors';
import type { SchedulingContext } from '../scheduling/caller';
import { isWorkflowOrder } from './vocabulary';

/** In which capacities the caller stands to an order. */
export type OrderRole = 'requester' | 'performer' | 'patient' | 'system';

/**
 * Every reference that means the caller: their Practitioner, active PractitionerRoles and those
 * roles' Organizations (a partner's staff act for the partner), exactly as the access layer matches
 * Consent actors (access/consent/grants.ts).
 */
export async function callerKeys(ctx: SchedulingContext): Promise<ReadonlySet<string>> {
  const { db, searchParams, baseUrl } = ctx.system.ctx;
  const fhirUser = ctx.caller.claims.fhirUser;
  const { keys } = await loadGrants(
    { db, searchParams, baseUrl },
    { fhirUser, clientId: ctx.caller.claims.client_id, research: false },
    ctx.now.getTime()
  );
  return keys;
}

/**
 * Loads an order placed through $order and the caller's roles in it. Anyone with none is refused:
 * 404 when they cannot read the order (its existence is the patient's business), 403 when a Consent
 * shows it to them. `allowed` are the roles that may take this step.
 */
export async function orderFor(
  ctx: SchedulingContext,
  id: string,
  allowed: readonly OrderRole[],
  what: string
): Promise<{ order: WithId<ServiceRequest>; roles: Set<OrderRole> }> {
  const order = await ctx.system.readResource<ServiceRequest>('ServiceRequest', id);
  if (!isWorkflowOrder(order)) {
    throw new OperationOutcomeError(notFound); // not an order of this workflow: the operations do not act on it
  }
  const roles = new Set<OrderRole>();
  if (ctx.caller.system) {
    roles.add('system');
  } else {
    if (ctx.caller.patientId && order.subject?.reference === `Patient/${ctx.caller.patientId}`) {
      roles.add('patient');
    }
    const keys = await callerKeys(ctx);
    if (order.requester?.reference && keys.has(order.requester.reference)) {
      roles.add('requester');
    }
    if ((order.performer ?? []).some((p) => p.reference && keys.has(p.reference))) {
      roles.add('performer');
    }
  }
  if ([...roles].some((r) => allowed.includes(r))) {
    return { order, roles };
  }
  if (roles.size > 0) {
    throw forbiddenBecause(`Only ${what} may do this`);
  }
  const readable = await ctx.repo.readResource('ServiceRequest', id).then(
    () => true,
    (err: unknown) => {
      if (err instanceof OperationOutcomeError && isNotFound(err.outcome)) {
        return false;
      }
      throw err;
    }
  );
  throw readable ? forbiddenBecause(`Only ${what} may do this`) : new OperationOutcomeError(notFound);
}
