import { allOk } from '@medplum/core';
import type { FhirRequest, FhirResponse } from '@medplum/fhir-router';
import type { OperationDefinition } from '@medplum/fhirtypes';
import { HALE_FHIR } from '../../access/consent/vocabulary';
import { agenda } from '../../scheduling/agenda';
import { schedulingContext } from '../../scheduling/caller';
import type { HaleRepository } from '../../storage/repository';
import type { OperationDeps } from './context';
import { invalid } from './parameters';

export const appointmentAgendaOperation: OperationDefinition = {
  resourceType: 'OperationDefinition',
  id: 'Appointment-agenda',
  url: `${HALE_FHIR}/OperationDefinition/Appointment-agenda`,
  name: 'Agenda',
  title: "A provider's appointments in a window",
  status: 'active',
  kind: 'operation',
  code: 'agenda',
  description:
    'The appointments the calling provider takes part in (their Practitioner or an active PractitionerRole) that ' +
    'start between start and end (at most 31 days), in start order: pending, booked, arrived, checked-in, ' +
    "fulfilled, no-show and cancelled ones, each patient participant with the patient's name as its display.",
  resource: ['Appointment'],
  system: false,
  type: true,
  instance: false,
  affectsState: false,
  parameter: [
    { name: 'start', use: 'in', min: 1, max: '1', type: 'dateTime' },
    { name: 'end', use: 'in', min: 1, max: '1', type: 'dateTime' },
    { name: 'return', use: 'out', min: 1, max: '1', type: 'Bundle' },
  ],
};

const single = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);

/** GET Appointment/$agenda?start=…&end=… */
export async function appointmentAgendaHandler(
  req: FhirRequest,
  repo: HaleRepository,
  deps: OperationDeps
): Promise<FhirResponse> {
  const unknown = Object.keys(req.query).filter((k) => k !== 'start' && k !== 'end');
  const start = single(req.query.start);
  const end = single(req.query.end);
  if (unknown.length > 0 || !start || !end) {
    throw invalid("$agenda takes 'start' and 'end' (dateTimes), nothing else");
  }
  const ctx = await schedulingContext(repo, deps.systemRepository());
  return [allOk, await agenda(ctx, { start, end })];
}
