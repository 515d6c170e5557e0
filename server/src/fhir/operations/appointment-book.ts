import { allOk, created } from '@medplum/core';
import type { FhirRequest, FhirResponse } from '@medplum/fhir-router';
import type { OperationDefinition } from '@medplum/fhirtypes';
import { HALE_FHIR } from '../../access/consent/vocabulary';
import { bookSlot } from '../../scheduling/booking';
import { schedulingContext } from '../../scheduling/caller';
import { idOf } from '../../scheduling/store';
import type { HaleRepository } from '../../storage/repository';
import type { OperationDeps } from './context';
import { OperationInput, invalid } from './parameters';

export const appointmentBookOperation: OperationDefinition = {
  resourceType: 'OperationDefinition',
  id: 'Appointment-book',
  url: `${HALE_FHIR}/OperationDefinition/Appointment-book`,
  name: 'Book',
  title: 'Book a slot',
  status: 'active',
  kind: 'operation',
  code: 'book',
  description:
    'Books a free slot, or one the patient holds: creates the Appointment (status pending until the provider ' +
    'confirms, with the patient and the schedule’s actors as participants) and makes the Slot busy, in one ' +
    'transaction under the slot’s row lock, so concurrent bookings of a slot give exactly one success and 409 ' +
    'slot-not-free for the others.',
  resource: ['Appointment'],
  system: false,
  type: true,
  instance: false,
  parameter: [
    { name: 'slot', use: 'in', min: 1, max: '1', type: 'Reference', documentation: 'The Slot to book (Slot/<id>)' },
    {
      name: 'patient',
      use: 'in',
      min: 0,
      max: '1',
      type: 'Reference',
      documentation: "Whom for (a patient's own token: themself; required for providers and system clients)",
    },
    { name: 'reason', use: 'in', min: 0, max: '1', type: 'string', documentation: 'Why (Appointment.reasonCode.text)' },
    { name: 'return', use: 'out', min: 1, max: '1', type: 'Appointment' },
  ],
};

/** POST Appointment/$book: 201 with a new Appointment, 200 when it books the patient's own hold. */
export async function appointmentBookHandler(
  req: FhirRequest,
  repo: HaleRepository,
  deps: OperationDeps
): Promise<FhirResponse> {
  const input = OperationInput.parse(appointmentBookOperation, req.body);
  const slot = input.one('slot', 'Reference')?.reference ?? '';
  if (!/^Slot\/[A-Za-z0-9\-.]{1,64}$/.test(slot)) {
    throw invalid("'slot' must be a Slot reference (Slot/<id>)");
  }
  const reason = input.one('reason', 'string');
  if (reason && reason.length > 1000) {
    throw invalid("'reason' must be at most 1000 characters");
  }
  const ctx = await schedulingContext(repo, deps.systemRepository());
  const booked = await bookSlot(ctx, { slotId: idOf(slot), patient: input.one('patient', 'Reference'), reason });
  return [booked.created ? created : allOk, booked.appointment];
}
