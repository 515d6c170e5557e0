import { allOk, created } from '@medplum/core';
import type { FhirRequest, FhirResponse } from '@medplum/fhir-router';
import type { OperationDefinition, OperationDefinitionParameter } from '@medplum/fhirtypes';
import { activateOrder, placeOrder, revokeOrder } from '../../orders/orders';
import { submitResult } from '../../orders/results';
import { schedulingContext } from '../../scheduling/caller';
import type { HaleRepository } from '../../storage/repository';
import type { OperationDeps } from './context';
import { haleOperation } from './definition';
import { OperationInput, invalid } from './parameters';

/** The order operations on ServiceRequest (docs/orders.md; logic in server/src/orders/). */
const orderOperation = (
  code: string,
  title: string,
  description: string,
  instance: boolean,
  parameter: OperationDefinitionParameter[]
): OperationDefinition => haleOperation({ resource: 'ServiceRequest', code, title, description, instance, parameter });

const returnsOrder: OperationDefinitionParameter = {
  name: 'return',
  use: 'out',
  min: 1,
  max: '1',
  type: 'ServiceRequest',
};

export const serviceRequestOrderOperation = orderOperation(
  'order',
  'Place an order or referral',
  'A provider with an active relationship to the patient orders a test or refers them: a ServiceRequest to a ' +
    'partner Organization (lab, pharmacy) or a practitioner, active (or draft). While it is active its performer ' +
    "may read it, and nothing more of the record than the patient's Consent shares with them.",
  false,
  [
    { name: 'patient', use: 'in', min: 1, max: '1', type: 'Reference', documentation: 'Patient/<id>' },
    {
      name: 'performer',
      use: 'in',
      min: 1,
      max: '1',
      type: 'Reference',
      documentation: 'Organization/<id>, Practitioner/<id> or PractitionerRole/<id>',
    },
    { name: 'code', use: 'in', min: 1, max: '1', type: 'CodeableConcept', documentation: 'What is ordered' },
    { name: 'category', use: 'in', min: 0, max: '1', type: 'CodeableConcept' },
    { name: 'priority', use: 'in', min: 0, max: '1', type: 'code', documentation: 'routine | urgent | asap | stat' },
    { name: 'reason', use: 'in', min: 0, max: '1', type: 'string', documentation: 'At most 1000 characters' },
    { name: 'note', use: 'in', min: 0, max: '1', type: 'string', documentation: 'At most 1000 characters' },
    { name: 'draft', use: 'in', min: 0, max: '1', type: 'boolean', documentation: 'true: stored as draft' },
    returnsOrder,
  ]
);

export const serviceRequestActivateOperation = orderOperation(
  'activate',
  'Send a draft order',
  'The provider who placed a draft order sends it: draft → active.',
  true,
  [returnsOrder]
);

export const serviceRequestRevokeOperation = orderOperation(
  'revoke',
  'Revoke an order',
  'The provider who placed it, or its patient, withdraws a draft, active or on-hold order (→ revoked), with a ' +
    'reason kept as a note. The performer stops seeing it.',
  true,
  [
    { name: 'reason', use: 'in', min: 1, max: '1', type: 'string', documentation: 'Why (1 to 1000 characters)' },
    returnsOrder,
  ]
);

export const serviceRequestSubmitResultOperation = orderOperation(
  'submit-result',
  'Hand in the result of an order',
  "The order's performer hands in a DiagnosticReport: stored in the patient's record with subject the patient, " +
    "basedOn the order and performer the order's performer; a final report completes the order.",
  true,
  [
    { name: 'report', use: 'in', min: 1, max: '1', type: 'Resource', documentation: 'A DiagnosticReport' },
    { name: 'serviceRequest', use: 'out', min: 1, max: '1', type: 'ServiceRequest' },
    { name: 'report', use: 'out', min: 1, max: '1', type: 'DiagnosticReport' },
  ]
);

/** POST ServiceRequest/$order: 201 with the order. */
export async function serviceRequestOrderHandler(
  req: FhirRequest,
  repo: HaleRepository,
  deps: OperationDeps
): Promise<FhirResponse> {
  const input = OperationInput.parse(serviceRequestOrderOperation, req.body);
  const ctx = await schedulingContext(repo, deps.systemRepository());
  const order = await placeOrder(ctx, {
    patient: input.one('patient', 'Reference') ?? {},
    performer: input.one('performer', 'Reference') ?? {},
    code: input.one('code', 'CodeableConcept') ?? {},
    category: input.one('category', 'CodeableConcept'),
    priority: input.one('priority', 'code'),
    reason: input.one('reason', 'string')?.trim(),
    note: input.one('note', 'string')?.trim(),
    draft: input.one('draft', 'boolean'),
  });
  return [created, order];
}

/** POST ServiceRequest/{id}/$activate */
export async function serviceRequestActivateHandler(
  req: FhirRequest,
  repo: HaleRepository,
  deps: OperationDeps
): Promise<FhirResponse> {
  OperationInput.parse(serviceRequestActivateOperation, req.body);
  const ctx = await schedulingContext(repo, deps.systemRepository());
  return [allOk, await activateOrder(ctx, req.params.id as string)];
}

/** POST ServiceRequest/{id}/$revoke */
export async function serviceRequestRevokeHandler(
  req: FhirRequest,
  repo: HaleRepository,
  deps: OperationDeps
): Promise<FhirResponse> {
  const input = OperationInput.parse(serviceRequestRevokeOperation, req.body);
  const reason = input.one('reason', 'string')?.trim() ?? '';
  if (reason.length > 1000) {
    throw invalid("'reason' must be at most 1000 characters");
  }
  const ctx = await schedulingContext(repo, deps.systemRepository());
  return [allOk, await revokeOrder(ctx, req.params.id as string, reason)];
}

/** POST ServiceRequest/{id}/$submit-result */
export async function serviceRequestSubmitResultHandler(
  req: FhirRequest,
  repo: HaleRepository,
  deps: OperationDeps
): Promise<FhirResponse> {
  const input = OperationInput.parse(serviceRequestSubmitResultOperation, req.body);
  const ctx = await schedulingContext(repo, deps.systemRepository());
  return [
    allOk,
    await submitResult(
      ctx,
      req.params.id as string,
      input.one('report', 'Resource') ?? { resourceType: 'Basic', code: {} }
    ),
  ];
}
