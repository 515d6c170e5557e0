import type { ServiceRequest } from '@medplum/fhirtypes';
import { isWorkflowOrder } from '../../orders/vocabulary';
import type { Grant } from './model';
import { referenceKey } from './provisions';

/**
 * What an order shares with whoever is to carry it out (docs/orders.md "What the partner sees"): while
 * a ServiceRequest placed through $order is `active`, its performer — a partner Organization (so its
 * staff, through their active PractitionerRoles), a PractitionerRole or a Practitioner — may read that
 * ServiceRequest, and, as with any grant, the patient's Patient resource. Nothing else: the rest of
 * the record reaches the partner only through a Consent the patient gives them. The grant ends with
 * the order (completed, revoked); ServiceRequest writes bump the access generation (access-cache.ts).
 */
export function orderGrants(orders: readonly ServiceRequest[], keys: ReadonlySet<string>, baseUrl: string): Grant[] {
  const out: Grant[] = [];
  for (const order of orders) {
    const patientId = referenceKey(order.subject, baseUrl)?.replace(/^Patient\//, '');
    const performs = (order.performer ?? []).some((p) => keys.has(referenceKey(p, baseUrl) ?? ''));
    if (
      order.status !== 'active' ||
      !isWorkflowOrder(order) ||
      !order.id ||
      !patientId?.match(/^[^/]+$/) ||
      !performs
    ) {
      continue;
    }
    out.push({
      patientId,
      basis: `ServiceRequest/${order.id}/_history/${order.meta?.versionId ?? '1'}`,
      full: false,
      patientOnly: false,
      rule: { permit: true, criteria: { instances: [`ServiceRequest/${order.id}`] }, children: [] },
      valid: {},
      read: true,
      write: false,
    });
  }
  return out;
}

/** True for a grant an order gave (not a relationship: it opens no thread and assigns no forms). */
export const isOrderGrant = (grant: Grant): boolean => grant.basis.startsWith('ServiceRequest/');
