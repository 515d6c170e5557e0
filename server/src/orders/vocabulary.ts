import { HALE_FHIR } from '../access/consent/vocabulary';

/**
 * The mark of an order made through ServiceRequest/$order (docs/orders.md): only these orders give
 * their performer a grant (access/consent/order-grants.ts), and REST writes of a marked order — or
 * marking one by REST — are refused (scheduling/write-guard.ts), so a grant can come only from an
 * order a provider with a relationship placed through the operation.
 */
export const ORDER_TAG = { system: `${HALE_FHIR}/CodeSystem/workflow`, code: 'order' } as const;

export interface Tagged {
  meta?: { tag?: { system?: string; code?: string }[] };
}

export function isWorkflowOrder(resource: Tagged): boolean {
  return (resource.meta?.tag ?? []).some((t) => t.system === ORDER_TAG.system && t.code === ORDER_TAG.code);
}
