import type { WithId } from '@medplum/core';
import type {
  CodeableConcept,
  Period,
  QuestionnaireResponse,
  QuestionnaireResponseItem,
  Reference,
  Task,
} from '@medplum/fhirtypes';
import { forbiddenBecause } from '../fhir/errors';
import { invalid } from '../fhir/operations/parameters';
import type { SchedulingCaller, SchedulingContext } from './caller';
import { assertListed } from './marketplace';
import { notification } from './notice';
import { RULES, refused } from './rules';
import { lockKey, searchAll } from './store';
import type { TriageConfig } from './triage-config';
import type { TriageSeverity } from './vocabulary';
import {
  HALE_TASK_CODE_SYSTEM,
  TRIAGE_SEVERITIES,
  TRIAGE_SEVERITY_SYSTEM,
  VISIT_REQUEST_CODE,
  VISIT_REQUEST_PART,
  VISIT_REQUESTED,
} from './vocabulary';

/**
 * A visit request (seed "VisitRequest") is a Task: code task-code#visit-request, `for` and
 * `requester` the patient, `owner` the provider it is addressed to, `reasonCode.text` the reason,
 * `priority` from the triage severity, and inputs for the severity, the preferred times and the
 * triage answers (a copy of the patient's QuestionnaireResponse, contained, so the provider sees
 * exactly what was sent and nothing else of the record). The provider answers it with $triage.
 */
export interface VisitRequestInput {
  provider: string;
  patient?: Reference;
  reason: string;
  severity?: TriageSeverity;
  preferred: Period[];
  answers?: Reference;
}

const PRIORITY: Record<TriageSeverity, NonNullable<Task['priority']>> = {
  routine: 'routine',
  soon: 'routine',
  urgent: 'urgent',
  emergency: 'stat',
};

export const rankOf = (s: string | undefined): number => TRIAGE_SEVERITIES.indexOf(s as TriageSeverity);

export const partType = (code: string): CodeableConcept => ({ coding: [{ system: VISIT_REQUEST_PART, code }] });

export const severityOf = (task: Task): string | undefined =>
  task.input?.find((i) => i.type.coding?.[0]?.code === 'severity')?.valueCoding?.code;

export const openRequestsQuery = (patient: string, owner: string): string =>
  `Task?code=${HALE_TASK_CODE_SYSTEM}|${VISIT_REQUEST_CODE}&patient=${patient}&owner=${owner}&status=requested`;

/** A patient asks for themself; a system client names the patient; a provider does not make requests. */
function requestingPatient(caller: SchedulingCaller, given: Reference | undefined): string {
  const named = given?.reference;
  if (named !== undefined && !/^Patient\/[A-Za-z0-9\-.]{1,64}$/.test(named)) {
    throw forbiddenBecause("'patient' must be a Patient reference (Patient/<id>)");
  }
  if (caller.patientId) {
    if (named !== undefined && named !== `Patient/${caller.patientId}`) {
      throw forbiddenBecause('A patient requests visits only for themself');
    }
    return caller.patientId;
  }
  if (caller.system && named) {
    return named.slice('Patient/'.length);
  }
  throw forbiddenBecause(
    caller.system ? "A system client names the patient ('patient')" : 'A visit request is made by the patient'
  );
}

/** The triage severities the answers end in (valueCodings of the triage-severity system, at any depth). */
function answeredSeverities(items: readonly QuestionnaireResponseItem[] | undefined): string[] {
  return (items ?? []).flatMap((item) => [
    ...(item.answer ?? []).flatMap((a) => [
      ...(a.valueCoding?.system === TRIAGE_SEVERITY_SYSTEM && a.valueCoding.code ? [a.valueCoding.code] : []),
      ...answeredSeverities(a.item),
    ]),
    ...answeredSeverities(item.item),
  ]);
}

/** A copy of the patient's own completed triage answers, read with the caller's access (404 when they cannot). */
async function triageAnswers(
  ctx: SchedulingContext,
  patientId: string,
  ref: Reference | undefined
): Promise<QuestionnaireResponse | undefined> {
  if (!ref) {
    return undefined;
  }
  if (!/^QuestionnaireResponse\/[A-Za-z0-9\-.]{1,64}$/.test(ref.reference ?? '')) {
    throw invalid("'answers' must be a QuestionnaireResponse reference (QuestionnaireResponse/<id>)");
  }
  const answers = await ctx.repo.readReference<QuestionnaireResponse>(ref as Reference<QuestionnaireResponse>);
  if (answers.subject?.reference !== `Patient/${patientId}`) {
    throw forbiddenBecause("The triage answers must be the patient's own (QuestionnaireResponse.subject)");
  }
  if (answers.status !== 'completed' && answers.status !== 'amended') {
    throw invalid('The triage answers must be completed (QuestionnaireResponse.status)');
  }
  // The copy keeps what triage needs, the questionnaire and the answers; not the record's other links.
  const { questionnaire, status, authored, item } = answers;
  return { resourceType: 'QuestionnaireResponse', id: 'answers', questionnaire, status, authored, item };
}

/** The most severe of the given severity and the answers' (safety first: the answers can only raise it). */
function severityFrom(given: TriageSeverity | undefined, answers: QuestionnaireResponse | undefined): TriageSeverity {
  const all = [...(given ? [given] : []), ...answeredSeverities(answers?.item)].filter((s) => rankOf(s) >= 0);
  const worst = all.sort((a, b) => rankOf(b) - rankOf(a))[0] as TriageSeverity | undefined;
  if (!worst) {
    throw invalid(`A visit request needs a 'severity' (${TRIAGE_SEVERITIES.join(' | ')}) or triage answers giving one`);
  }
  return worst;
}

function assertPreferred(preferred: readonly Period[], now: Date): void {
  for (const p of preferred) {
    const start = Date.parse(p.start ?? '');
    const end = Date.parse(p.end ?? '');
    if (Number.isNaN(start) || Number.isNaN(end) || end <= start || end <= now.getTime()) {
      throw invalid("Each 'preferred' time needs a start and a later end that is still ahead");
    }
  }
}

/**
 * Task/$request-visit: refused with the emergency advice when the severity reaches the configured
 * threshold (nothing is stored, nobody is notified: the patient must call emergency services), else
 * stored for a listed provider — one open request per patient and provider, under a lock on the
 * pair — and the provider is told, PHI-free, that a request waits.
 */
export async function requestVisit(
  ctx: SchedulingContext,
  triage: TriageConfig,
  input: VisitRequestInput
): Promise<WithId<Task>> {
  const patientId = requestingPatient(ctx.caller, input.patient);
  const patient = `Patient/${patientId}`;
  assertPreferred(input.preferred, ctx.now);
  const answers = await triageAnswers(ctx, patientId, input.answers);
  const severity = severityFrom(input.severity, answers);
  if (triage.emergencyAt && rankOf(severity) >= rankOf(triage.emergencyAt)) {
    throw refused(RULES.emergency, triage.emergencyMessage);
  }
  await assertListed(ctx.system, input.provider, patientId);
  return ctx.system.withTransaction(async (tx) => {
    await lockKey(tx, `visit-request:${patient}|${input.provider}`);
    if ((await searchAll<Task>(tx, openRequestsQuery(patient, input.provider))).length > 0) {
      throw refused(RULES.visitRequestOpen, 'You already have a visit request waiting for this provider');
    }
    const task = await tx.createResource<Task>({
      resourceType: 'Task',
      ...(answers ? { contained: [answers] } : {}),
      status: 'requested',
      intent: 'proposal',
      priority: PRIORITY[severity],
      code: { coding: [{ system: HALE_TASK_CODE_SYSTEM, code: VISIT_REQUEST_CODE, display: 'Visit request' }] },
      description: 'Visit request',
      for: { reference: patient },
      requester: { reference: patient },
      owner: { reference: input.provider },
      authoredOn: ctx.now.toISOString(),
      lastModified: ctx.now.toISOString(),
      reasonCode: { text: input.reason },
      input: [
        { type: partType('severity'), valueCoding: { system: TRIAGE_SEVERITY_SYSTEM, code: severity } },
        ...input.preferred.map((valuePeriod) => ({ type: partType('preferred-time'), valuePeriod })),
        ...(answers ? [{ type: partType('triage-answers'), valueReference: { reference: '#answers' } }] : []),
      ],
    });
    await tx.createResource(
      notification({
        category: VISIT_REQUESTED,
        recipient: input.provider,
        patient,
        about: `Task/${task.id}`,
        text: 'You have a new visit request. Sign in to review it.',
      })
    );
    return task;
  });
}
