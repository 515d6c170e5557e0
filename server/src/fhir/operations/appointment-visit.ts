import { allOk } from '@medplum/core';
import type { FhirRequest, FhirResponse } from '@medplum/fhir-router';
import type { OperationDefinition, OperationDefinitionParameter, Parameters } from '@medplum/fhirtypes';
import type { SchedulingContext } from '../../scheduling/caller';
import { schedulingContext } from '../../scheduling/caller';
import { finishVisit, joinVisit, startVisit } from '../../telehealth/visit';
import type { HaleRepository } from '../../storage/repository';
import type { OperationDeps } from './context';
import { haleOperation } from './definition';
import { OperationInput } from './parameters';

/** The visit operations on an Appointment (docs/scheduling.md "Visits and telehealth"; logic in server/src/telehealth/). */
const visitOperation = (
  code: string,
  title: string,
  description: string,
  parameter: OperationDefinitionParameter[]
): OperationDefinition =>
  haleOperation({ resource: 'Appointment', code, title, description, instance: true, parameter });

const visitOut: OperationDefinitionParameter[] = [
  { name: 'appointment', use: 'out', min: 1, max: '1', type: 'Appointment' },
  { name: 'encounter', use: 'out', min: 1, max: '1', type: 'Encounter' },
  {
    name: 'relationship',
    use: 'out',
    min: 0,
    max: '*',
    type: 'Reference',
    documentation: 'The one-off relationships (CareTeam) the visit was tied to ($start-visit) or ended ($finish-visit)',
  },
];

export const appointmentJoinOperation = visitOperation(
  'join',
  'The join link of a virtual visit',
  "A participant (the patient or one of the appointment's providers) gets the Appointment with its join link: " +
    'the R5 virtualService as the cross-version extension, its address built from TELEHEALTH_URL_TEMPLATE.',
  [{ name: 'return', use: 'out', min: 1, max: '1', type: 'Appointment' }]
);

export const appointmentStartVisitOperation = visitOperation(
  'start-visit',
  'Start the visit',
  "One of the appointment's providers opens the visit: an Encounter in progress (class VR for a virtual visit, AMB " +
    "otherwise), the Appointment booked → arrived, and the patient's open one-off relationships with the provider " +
    'tied to the Encounter (CareTeam.encounter), so that finishing the visit ends them.',
  visitOut
);

export const appointmentFinishVisitOperation = visitOperation(
  'finish-visit',
  'Finish the visit',
  "One of the appointment's providers closes the visit: the Encounter finished, the Appointment fulfilled, and " +
    'the one-off relationships tied to it ended now (status inactive, period.end), with an access-ended notice.',
  visitOut
);

/** GET or POST Appointment/{id}/$join */
export async function appointmentJoinHandler(
  req: FhirRequest,
  repo: HaleRepository,
  deps: OperationDeps
): Promise<FhirResponse> {
  if (req.method === 'POST') {
    OperationInput.parse(appointmentJoinOperation, req.body);
  }
  const ctx = await schedulingContext(repo, deps.systemRepository());
  return [allOk, await joinVisit(ctx, deps.telehealth, req.params.id as string)];
}

type Handler = (req: FhirRequest, repo: HaleRepository, deps: OperationDeps) => Promise<FhirResponse>;

/** A visit step: no inputs, the Parameters the step answers. */
const visitStep =
  (
    definition: OperationDefinition,
    run: (ctx: SchedulingContext, deps: OperationDeps, id: string) => Promise<Parameters>
  ): Handler =>
  async (req, repo, deps) => {
    OperationInput.parse(definition, req.body);
    const ctx = await schedulingContext(repo, deps.systemRepository());
    return [allOk, await run(ctx, deps, req.params.id as string)];
  };

/** POST Appointment/{id}/$start-visit */
export const appointmentStartVisitHandler = visitStep(appointmentStartVisitOperation, (ctx, deps, id) =>
  startVisit(ctx, deps.telehealth, id)
);

/** POST Appointment/{id}/$finish-visit */
export const appointmentFinishVisitHandler = visitStep(appointmentFinishVisitOperation, (ctx, _deps, id) =>
  finishVisit(ctx, id)
);
