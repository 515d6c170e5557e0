import { OperationOutcomeError, allOk, isGone, isNotFound } from '@medplum/core';
import type { FhirRequest, FhirResponse } from '@medplum/fhir-router';
import type { WithId } from '@medplum/core';
import type {
  OperationDefinition,
  Organization,
  Parameters,
  Patient,
  Period,
  Practitioner,
  PractitionerRole,
  Reference,
  Resource,
  Task,
} from '@medplum/fhirtypes';
import type { RelationshipType } from '../../access/consent/vocabulary';
import { CATEGORY_SYSTEM, HALE_FHIR } from '../../access/consent/vocabulary';
import { sql } from '../../db/sql';
import type { HaleRepository } from '../../storage/repository';
import { OperationInput, invalid } from './parameters';
import { requestedShare } from './request-share';
import type { ShareDecision } from './share-resources';
import { categories, consentResource, relationshipResource, relationshipType, sharingPeriod } from './share-resources';

export const shareOperation: OperationDefinition = {
  resourceType: 'OperationDefinition',
  id: 'Patient-share',
  url: `${HALE_FHIR}/OperationDefinition/Patient-share`,
  name: 'Share',
  title: 'Share data with a provider',
  status: 'active',
  kind: 'operation',
  code: 'share',
  description:
    'The patient (or their guardian) shares part of their record with a provider: creates, in one transaction, ' +
    'a relationship (CareTeam, hale-relationship) and a sharing Consent (hale-sharing-consent) naming it, and ' +
    "completes the data-sharing request it answers. The writes go through the caller's own access policy.",
  resource: ['Patient'],
  system: false,
  type: false,
  instance: true,
  parameter: [
    {
      name: 'actor',
      use: 'in',
      min: 0,
      max: '1',
      type: 'Reference',
      documentation:
        'Practitioner, PractitionerRole or Organization to share with (default: the requester of `request`)',
    },
    {
      name: 'category',
      use: 'in',
      min: 0,
      max: '*',
      type: 'code',
      binding: { strength: 'required', valueSet: `${HALE_FHIR}/ValueSet/data-category` },
      documentation: `Categories of ${CATEGORY_SYSTEM} (default: those requested, else all; none with \`resource\`)`,
    },
    {
      name: 'type',
      use: 'in',
      min: 0,
      max: '1',
      type: 'code',
      binding: { strength: 'required', valueSet: `${HALE_FHIR}/ValueSet/relationship-type` },
      documentation: 'one-off | temporary | permanent (required unless `request` asked for one)',
    },
    { name: 'period', use: 'in', min: 0, max: '1', type: 'Period', documentation: 'When the share is in force' },
    {
      name: 'duration',
      use: 'in',
      min: 0,
      max: '1',
      type: 'integer',
      documentation: 'Days from now (instead of period; default one-off 1, temporary 30, permanent until revoked)',
    },
    {
      name: 'resource',
      use: 'in',
      min: 0,
      max: '*',
      type: 'Reference',
      documentation: 'Share exactly these resources of the record (provision.data, meaning instance)',
    },
    {
      name: 'dataPeriod',
      use: 'in',
      min: 0,
      max: '1',
      type: 'Period',
      documentation: 'Only data dated in this period',
    },
    {
      name: 'action',
      use: 'in',
      min: 0,
      max: '1',
      type: 'code',
      documentation: 'access (default) | correct (read and add/correct data; permanent relationships only)',
    },
    {
      name: 'favorite',
      use: 'in',
      min: 0,
      max: '1',
      type: 'boolean',
      documentation: 'Mark the relationship a favorite',
    },
    {
      name: 'request',
      use: 'in',
      min: 0,
      max: '1',
      type: 'Reference',
      documentation: 'The data-sharing-request Task this answers; it is completed with the Consent as output',
    },
    { name: 'careTeam', use: 'out', min: 1, max: '1', type: 'CareTeam' },
    { name: 'consent', use: 'out', min: 1, max: '1', type: 'Consent' },
    { name: 'task', use: 'out', min: 0, max: '1', type: 'Task' },
  ],
};

const ACTOR_REF = /^(Practitioner|PractitionerRole|Organization)\/([A-Za-z0-9\-.]{1,64})$/;
const INSTANCE_REF = /^([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(\/_history\/\d{1,19})?$/;

/** POST Patient/{id}/$share */
export async function shareHandler(req: FhirRequest, repo: HaleRepository): Promise<FhirResponse> {
  const patientId = req.params.id as string;
  const input = OperationInput.parse(shareOperation, req.body);
  await repo.readResource('Patient', patientId); // 404 when the caller cannot see this patient
  const now = Date.now();
  return repo.withTransaction(async (tx) => {
    const request = await openRequest(tx, input.one('request', 'Reference'), patientId);
    const decision = await decide(tx, input, patientId, request, now);
    const careTeam = await tx.createResource(relationshipResource(decision));
    const consent = await tx.createResource(consentResource(decision, careTeam.id, new Date(now).toISOString()));
    if (decision.favorite && decision.type === 'permanent') {
      await addGeneralPractitioner(tx, patientId, decision.actor);
    }
    const task = request
      ? await tx.updateResource<Task>({
          ...request,
          status: 'completed',
          lastModified: new Date(now).toISOString(),
          output: [
            ...(request.output ?? []),
            { type: { text: 'consent' }, valueReference: { reference: `Consent/${consent.id}` } },
          ],
        })
      : undefined;
    const out: Parameters = {
      resourceType: 'Parameters',
      parameter: [
        { name: 'careTeam', resource: careTeam },
        { name: 'consent', resource: consent },
        ...(task ? [{ name: 'task', resource: task }] : []),
      ],
    };
    return [allOk, out];
  });
}

async function decide(
  tx: HaleRepository,
  input: OperationInput,
  patientId: string,
  request: Task | undefined,
  now: number
): Promise<ShareDecision> {
  const asked = request ? requestedShare(request) : undefined;
  const typeCode = input.one('type', 'code') ?? asked?.type;
  if (typeCode === undefined) {
    throw invalid("Parameter 'type' is required (one-off, temporary or permanent)");
  }
  const type: RelationshipType = relationshipType(typeCode);
  const action = input.one('action', 'code') ?? 'access';
  if (action !== 'access' && action !== 'correct') {
    throw invalid("Parameter 'action' must be access or correct");
  }
  if (action === 'correct' && type !== 'permanent') {
    throw invalid("action 'correct' is only allowed in a permanent relationship");
  }
  const ownTiming = input.has('period') || input.has('duration');
  const period = sharingPeriod(
    type,
    ownTiming ? input.one('period', 'Period') : asked?.period,
    ownTiming ? input.one('duration', 'integer') : asked?.duration,
    now
  );
  const instances = await checkInstances(tx, input.all('resource', 'Reference'), patientId);
  const chosen = input.has('category') ? input.all('category', 'code') : (asked?.categories ?? []);
  return {
    patientId,
    actor: await checkActor(tx, input.one('actor', 'Reference'), request),
    type,
    period,
    categories: chosen.length === 0 && instances.length === 0 ? ['all'] : categories(chosen),
    instances,
    dataPeriod: checkDataPeriod(input.one('dataPeriod', 'Period')),
    action,
    favorite: input.one('favorite', 'boolean') ?? false,
  };
}

/** The request being answered: a data-sharing request Task of this patient that is still open. */
async function openRequest(
  tx: HaleRepository,
  ref: Reference | undefined,
  patientId: string
): Promise<Task | undefined> {
  if (!ref) {
    return undefined;
  }
  const id = /^Task\/([A-Za-z0-9\-.]{1,64})$/.exec(ref.reference ?? '')?.[1];
  const task = id ? await readOrUndefined<Task>(tx, 'Task', id) : undefined;
  if (!task || !requestedShare(task) || task.for?.reference !== `Patient/${patientId}`) {
    throw invalid(`'request' must reference a data-sharing request Task of Patient/${patientId}`);
  }
  if (!['requested', 'received', 'accepted', 'ready'].includes(task.status)) {
    throw invalid(`The request is already ${task.status}`);
  }
  return task;
}

async function checkActor(
  tx: HaleRepository,
  given: Reference | undefined,
  request: Task | undefined
): Promise<Reference<Practitioner | PractitionerRole | Organization>> {
  const reference = relative(tx, given?.reference ?? request?.requester?.reference);
  if (!reference) {
    throw invalid("Parameter 'actor' is required");
  }
  const m = ACTOR_REF.exec(reference);
  if (!m?.[1] || !m[2]) {
    throw invalid("'actor' must reference a Practitioner, PractitionerRole or Organization");
  }
  if (given && request?.requester && relative(tx, request.requester.reference) !== reference) {
    throw invalid("'actor' differs from the requester of 'request'");
  }
  if (!(await readOrUndefined(tx, m[1], m[2]))) {
    throw invalid(`'actor' ${reference} does not exist`);
  }
  return { reference };
}

/** Each shared resource must be in the patient's record and visible to the caller. */
async function checkInstances(tx: HaleRepository, refs: Reference[], patientId: string): Promise<Reference[]> {
  const out: Reference[] = [];
  for (const ref of refs) {
    const reference = relative(tx, ref.reference) ?? '';
    const m = INSTANCE_REF.exec(reference);
    const inRecord =
      m?.[1] && m[2] && (await readOrUndefined(tx, m[1], m[2]))
        ? await tx.queryable.query(
            sql`SELECT 1 FROM resource WHERE type = ${m[1]} AND id = ${m[2]} AND NOT deleted
              AND compartments @> ARRAY[${patientId}]::text[]`
          )
        : [];
    if (inRecord.length === 0) {
      throw invalid(`'resource' ${ref.reference ?? ''} is not a resource of Patient/${patientId}`);
    }
    out.push({ reference });
  }
  return out;
}

function checkDataPeriod(period: Period | undefined): Period | undefined {
  if (period?.start && period.end && Date.parse(period.start) > Date.parse(period.end)) {
    throw invalid("'dataPeriod' ends before it starts");
  }
  return period;
}

/** A favorite permanent provider becomes one of the patient's nominated primary care providers. */
async function addGeneralPractitioner(
  tx: HaleRepository,
  patientId: string,
  actor: Reference<Practitioner | PractitionerRole | Organization>
): Promise<void> {
  const patient = await tx.readResource<Patient>('Patient', patientId);
  if ((patient.generalPractitioner ?? []).some((r) => r.reference === actor.reference)) {
    return;
  }
  await tx.updateResource<Patient>({
    ...patient,
    generalPractitioner: [...(patient.generalPractitioner ?? []), actor],
  });
}

function relative(repo: HaleRepository, reference: string | undefined): string | undefined {
  const base = `${repo.ctx.baseUrl}/`;
  return reference?.startsWith(base) ? reference.slice(base.length) : reference;
}

async function readOrUndefined<T extends Resource>(
  repo: HaleRepository,
  type: string,
  id: string
): Promise<WithId<T> | undefined> {
  try {
    return await repo.readResource<T>(type, id);
  } catch (err) {
    if (err instanceof OperationOutcomeError && (isNotFound(err.outcome) || isGone(err.outcome))) {
      return undefined;
    }
    throw err;
  }
}
