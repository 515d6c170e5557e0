import type { WithId } from '@medplum/core';
import { OperationOutcomeError, isNotFound } from '@medplum/core';
import type { Annotation, CodeableConcept, Organization, Reference, ServiceRequest } from '@medplum/fhirtypes';
import { invalid } from '../fhir/operations/parameters';
import { relatedProvider } from '../messaging/relationship';
import type { SchedulingContext } from '../scheduling/caller';
import { RULES, refused } from '../scheduling/rules';
import { lockServiceRequest } from '../scheduling/store';
import { orderFor } from './party';
import { ORDER_TAG } from './vocabulary';

/**
 * Orders and referrals (docs/orders.md): a ServiceRequest from a provider with an active relationship
 * to the patient, addressed to a partner Organization (a lab, a pharmacy) or a practitioner. Its status
 * moves only through the operations — draft → active ($activate) → completed ($submit-result, results.ts)
 * or revoked ($revoke) — each under the order's row lock, so concurrent steps take effect once.
 */

const REF = /^(Organization|Practitioner|PractitionerRole)\/[A-Za-z0-9\-.]{1,64}$/;
const PRIORITIES = ['routine', 'urgent', 'asap', 'stat'] as const;

export interface OrderInput {
  patient: Reference;
  performer: Reference;
  code: CodeableConcept;
  category?: CodeableConcept;
  priority?: string;
  reason?: string;
  note?: string;
  draft?: boolean;
}

/** The provider placing the order, after checking their relationship with the patient (system clients name none). */
const orderer = (ctx: SchedulingContext, patientId: string): Promise<string | undefined> =>
  ctx.caller.system ? Promise.resolve(undefined) : relatedProvider(ctx, patientId, 'Orders and referrals are placed');

/** The performer must be an existing, active Organization, Practitioner or PractitionerRole of this server. */
async function checkPerformer(ctx: SchedulingContext, performer: Reference): Promise<void> {
  if (!REF.test(performer.reference ?? '')) {
    throw invalid("'performer' must reference an Organization, Practitioner or PractitionerRole (Type/<id>)");
  }
  const found = await ctx.system.readReference(performer as Reference<Organization>).catch((err: unknown) => {
    if (err instanceof OperationOutcomeError && isNotFound(err.outcome)) {
      return undefined;
    }
    throw err;
  });
  if (!found || (found as { active?: boolean }).active === false) {
    throw invalid(`'performer' ${performer.reference} is not a known, active partner or practitioner`);
  }
}

/** ServiceRequest/$order: 201 with the order, `active` (or `draft` when asked). */
export async function placeOrder(ctx: SchedulingContext, input: OrderInput): Promise<WithId<ServiceRequest>> {
  const patient = input.patient.reference ?? '';
  if (!/^Patient\/[A-Za-z0-9\-.]{1,64}$/.test(patient)) {
    throw invalid("'patient' must be a Patient reference (Patient/<id>)");
  }
  if (input.priority !== undefined && !(PRIORITIES as readonly string[]).includes(input.priority)) {
    throw invalid(`'priority' must be one of ${PRIORITIES.join(', ')}`);
  }
  for (const [name, text] of [
    ['reason', input.reason],
    ['note', input.note],
  ] as const) {
    if (text !== undefined && text.length > 1000) {
      throw invalid(`'${name}' must be at most 1000 characters`);
    }
  }
  const by = await orderer(ctx, patient.slice('Patient/'.length));
  await ctx.system.readReference(input.patient);
  await checkPerformer(ctx, input.performer);
  return ctx.system.createResource<ServiceRequest>({
    resourceType: 'ServiceRequest',
    meta: { tag: [ORDER_TAG] },
    status: input.draft ? 'draft' : 'active',
    intent: 'order',
    ...(input.category ? { category: [input.category] } : {}),
    ...(input.priority ? { priority: input.priority as ServiceRequest['priority'] } : {}),
    code: input.code,
    subject: { reference: patient },
    authoredOn: ctx.now.toISOString(),
    ...(by ? { requester: { reference: by } } : {}),
    performer: [{ reference: input.performer.reference }],
    ...(input.reason ? { reasonCode: [{ text: input.reason }] } : {}),
    ...(input.note ? { note: [{ text: input.note, time: ctx.now.toISOString() }] } : {}),
  });
}

function noteBy(ctx: SchedulingContext, text: string): Annotation {
  const author = ctx.caller.claims.fhirUser;
  return { text, time: ctx.now.toISOString(), ...(author ? { authorReference: { reference: author } } : {}) };
}

/** ServiceRequest/{id}/$activate: the requester sends a draft order (draft → active). */
export async function activateOrder(ctx: SchedulingContext, id: string): Promise<WithId<ServiceRequest>> {
  await orderFor(ctx, id, ['requester', 'system'], 'the provider who placed the order');
  return ctx.system.withTransaction(async (tx) => {
    const order = await lockServiceRequest(tx, id);
    if (order.status !== 'draft') {
      throw refused(
        RULES.orderTransition,
        `An order in status '${order.status}' cannot be activated (allowed from: draft)`
      );
    }
    return tx.updateResource<ServiceRequest>({ ...order, status: 'active' });
  });
}

const REVOCABLE: readonly ServiceRequest['status'][] = ['draft', 'active', 'on-hold'];

/**
 * ServiceRequest/{id}/$revoke: the requester withdraws the order, or the patient stops it, with a
 * reason (a note). The performer's access to it ends with it.
 */
export async function revokeOrder(ctx: SchedulingContext, id: string, reason: string): Promise<WithId<ServiceRequest>> {
  await orderFor(ctx, id, ['requester', 'patient', 'system'], 'the provider who placed the order or its patient');
  return ctx.system.withTransaction(async (tx) => {
    const order = await lockServiceRequest(tx, id);
    if (!REVOCABLE.includes(order.status)) {
      throw refused(
        RULES.orderTransition,
        `An order in status '${order.status}' cannot be revoked (allowed from: ${REVOCABLE.join(', ')})`
      );
    }
    return tx.updateResource<ServiceRequest>({
      ...order,
      status: 'revoked',
      note: [...(order.note ?? []), noteBy(ctx, `Revoked: ${reason}`)],
    });
  });
}
