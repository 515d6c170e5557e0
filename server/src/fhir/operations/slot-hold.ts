import { allOk } from '@medplum/core';
import type { FhirRequest, FhirResponse } from '@medplum/fhir-router';
import type { OperationDefinition } from '@medplum/fhirtypes';
import { HALE_FHIR } from '../../access/consent/vocabulary';
import { holdSlot } from '../../scheduling/booking';
import { schedulingContext } from '../../scheduling/caller';
import type { HaleRepository } from '../../storage/repository';
import type { OperationDeps } from './context';
import { OperationInput, invalid } from './parameters';

export const slotHoldOperation: OperationDefinition = {
  resourceType: 'OperationDefinition',
  id: 'Slot-hold',
  url: `${HALE_FHIR}/OperationDefinition/Slot-hold`,
  name: 'Hold',
  title: 'Hold a slot',
  status: 'active',
  kind: 'operation',
  code: 'hold',
  description:
    'Reserves a free slot for a patient for `minutes`: the Slot becomes busy-tentative with the slot-hold-expires ' +
    'extension and a proposed Appointment records the hold; $book then books it. Holding a slot one holds renews ' +
    'the hold. A lapsed hold counts as free.',
  resource: ['Slot'],
  system: false,
  type: false,
  instance: true,
  parameter: [
    {
      name: 'patient',
      use: 'in',
      min: 0,
      max: '1',
      type: 'Reference',
      documentation: "Whom for (a patient's own token: themself; required for providers and system clients)",
    },
    { name: 'minutes', use: 'in', min: 0, max: '1', type: 'integer', documentation: '1 to 60, default 10' },
    { name: 'slot', use: 'out', min: 1, max: '1', type: 'Slot' },
    { name: 'appointment', use: 'out', min: 1, max: '1', type: 'Appointment' },
    { name: 'expires', use: 'out', min: 1, max: '1', type: 'dateTime' },
  ],
};

/** POST Slot/{id}/$hold */
export async function slotHoldHandler(
  req: FhirRequest,
  repo: HaleRepository,
  deps: OperationDeps
): Promise<FhirResponse> {
  const input = OperationInput.parse(slotHoldOperation, req.body);
  const minutes = input.one('minutes', 'integer') ?? 10;
  if (minutes < 1 || minutes > 60) {
    throw invalid("'minutes' must be from 1 to 60");
  }
  const ctx = await schedulingContext(repo, deps.systemRepository());
  const held = await holdSlot(ctx, {
    slotId: req.params.id as string,
    patient: input.one('patient', 'Reference'),
    minutes,
  });
  return [
    allOk,
    {
      resourceType: 'Parameters',
      parameter: [
        { name: 'slot', resource: held.slot },
        { name: 'appointment', resource: held.appointment },
        { name: 'expires', valueDateTime: held.expires.toISOString() },
      ],
    },
  ];
}
