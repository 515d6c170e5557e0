import type { WithId } from '@medplum/core';
import { OperationOutcomeError, businessRule, notFound } from '@medplum/core';
import type { Questionnaire, QuestionnaireResponse, Reference, Task } from '@medplum/fhirtypes';
import { forbiddenBecause } from '../fhir/errors';
import { invalid } from '../fhir/operations/parameters';
import { activeRelationship } from '../messaging/relationship';
import type { SchedulingContext } from '../scheduling/caller';
import { readableBy } from '../scheduling/caller';
import { notification } from '../scheduling/notice';
import { RULES, refused } from '../scheduling/rules';
import { lockTask } from '../scheduling/store';
import { isIntakeTask } from '../scheduling/write-guard';
import { HALE_TASK_CODE_SYSTEM, INTAKE_CODE, SCHEDULING_RULE_SYSTEM } from '../scheduling/vocabulary';
import { answerProblems } from './answers';

/**
 * Intake (docs/scheduling.md "Intake"): a provider assigns a patient a Questionnaire to fill in by a
 * due date — a Task (code task-code#intake, `for` and `owner` the patient, `requester` the provider,
 * `focus` the Questionnaire, `restriction.period.end` the due date). The patient answers with their
 * own QuestionnaireResponse and hands it in with $submit-intake, which checks it against the form
 * and completes the Task. REST writes of intake Tasks are refused (scheduling/write-guard.ts).
 */

/** The provider assigning (their fhirUser), after checking they have an active relationship with the patient. */
async function assigner(ctx: SchedulingContext, patientId: string): Promise<string | undefined> {
  if (ctx.caller.system) {
    return ctx.caller.claims.fhirUser;
  }
  const me = ctx.caller.claims.fhirUser ?? '';
  if (!/^(Practitioner|PractitionerRole)\//.test(me)) {
    throw forbiddenBecause('Intake forms are assigned by a provider');
  }
  const deps = { db: ctx.system.ctx.db, searchParams: ctx.system.ctx.searchParams, baseUrl: ctx.system.ctx.baseUrl };
  if (!(await activeRelationship(deps, me, patientId, ctx.now.getTime()))) {
    throw forbiddenBecause('A provider assigns forms only to a patient whose Consent shares the record with them');
  }
  return me;
}

export async function assignIntake(
  ctx: SchedulingContext,
  input: { patient: Reference; questionnaire: Reference; due?: string; description?: string }
): Promise<WithId<Task>> {
  const patient = input.patient.reference ?? '';
  if (!/^Patient\/[A-Za-z0-9\-.]{1,64}$/.test(patient)) {
    throw invalid("'patient' must be a Patient reference (Patient/<id>)");
  }
  if (!/^Questionnaire\/[A-Za-z0-9\-.]{1,64}$/.test(input.questionnaire.reference ?? '')) {
    throw invalid("'questionnaire' must be a Questionnaire reference (Questionnaire/<id>)");
  }
  if (input.due !== undefined && Date.parse(input.due) <= ctx.now.getTime()) {
    throw invalid("'due' must be ahead");
  }
  const by = await assigner(ctx, patient.slice('Patient/'.length));
  await ctx.system.readReference(input.patient);
  const form = await ctx.system.readReference<Questionnaire>(input.questionnaire as Reference<Questionnaire>);
  return ctx.system.withTransaction(async (tx) => {
    const task = await tx.createResource<Task>({
      resourceType: 'Task',
      status: 'requested',
      intent: 'order',
      code: { coding: [{ system: HALE_TASK_CODE_SYSTEM, code: INTAKE_CODE, display: 'Intake form' }] },
      description: input.description ?? form.title ?? 'Please fill in this form',
      focus: { reference: `Questionnaire/${form.id}` },
      for: { reference: patient },
      owner: { reference: patient },
      ...(by ? { requester: { reference: by } } : {}),
      authoredOn: ctx.now.toISOString(),
      lastModified: ctx.now.toISOString(),
      ...(input.due ? { restriction: { period: { end: input.due } } } : {}),
    });
    await tx.createResource(
      notification({
        category: 'intake-assigned',
        recipient: patient,
        patient,
        about: `Task/${task.id}`,
        text: 'You have a form to fill in. Sign in to see it.',
      })
    );
    return task;
  });
}

/** The intake Task for the patient who owns it (404 for anyone else; 403 when a Consent shows it to them). */
async function ownIntake(ctx: SchedulingContext, id: string): Promise<WithId<Task>> {
  const task = await ctx.system.readResource<Task>('Task', id);
  if (!isIntakeTask(task)) {
    throw new OperationOutcomeError(notFound);
  }
  if (ctx.caller.system || (ctx.caller.patientId && task.for?.reference === `Patient/${ctx.caller.patientId}`)) {
    return task;
  }
  throw (await readableBy(ctx.repo, 'Task', id))
    ? forbiddenBecause('Only the patient the form is assigned to hands it in')
    : new OperationOutcomeError(notFound);
}

/** 422 naming every problem of the answers, each as its own issue (the rule answers-invalid). */
function answersInvalid(problems: string[]): OperationOutcomeError {
  const base = businessRule('answers-invalid', problems.join('; '));
  return new OperationOutcomeError({
    ...base,
    issue: problems.map((text) => ({
      severity: 'error',
      code: 'business-rule',
      details: { coding: [{ system: SCHEDULING_RULE_SYSTEM, code: 'answers-invalid' }], text },
    })),
  });
}

/**
 * Task/{id}/$submit-intake: the patient hands in their QuestionnaireResponse for the assigned form.
 * It must be theirs, completed, for the Questionnaire the Task assigns (422 not-assigned), and valid
 * against it (422 answers-invalid, one issue per problem). Under the Task's row lock: handed in once.
 */
export async function submitIntake(ctx: SchedulingContext, id: string, response: Reference): Promise<WithId<Task>> {
  const read = await ownIntake(ctx, id);
  if (!/^QuestionnaireResponse\/[A-Za-z0-9\-.]{1,64}$/.test(response.reference ?? '')) {
    throw invalid("'response' must be a QuestionnaireResponse reference");
  }
  const answers = await ctx.repo.readReference<QuestionnaireResponse>(response as Reference<QuestionnaireResponse>);
  if (answers.subject?.reference !== read.for?.reference) {
    throw forbiddenBecause("The answers must be the patient's own (QuestionnaireResponse.subject)");
  }
  const form = await ctx.system.readReference<Questionnaire>(read.focus as Reference<Questionnaire>);
  const answered = answers.questionnaire ?? '';
  if (answered !== `Questionnaire/${form.id}` && (!form.url || answered.split('|')[0] !== form.url)) {
    throw refused(RULES.notAssigned, 'These answers are to a questionnaire this task did not assign');
  }
  if (answers.status !== 'completed' && answers.status !== 'amended') {
    throw invalid('Only completed answers are handed in (QuestionnaireResponse.status)');
  }
  const problems = answerProblems(form, answers);
  if (problems.length > 0) {
    throw answersInvalid(problems);
  }
  return ctx.system.withTransaction(async (tx) => {
    const task = await lockTask(tx, read.id);
    if (task.status !== 'requested') {
      throw refused(RULES.intakeClosed, 'The form was already handed in or withdrawn');
    }
    const done = await tx.updateResource<Task>({
      ...task,
      status: 'completed',
      lastModified: ctx.now.toISOString(),
      output: [
        {
          type: { coding: [{ system: HALE_TASK_CODE_SYSTEM, code: INTAKE_CODE }] },
          valueReference: { reference: `QuestionnaireResponse/${answers.id}` },
        },
      ],
    });
    if (task.requester?.reference) {
      await tx.createResource(
        notification({
          category: 'intake-completed',
          recipient: task.requester.reference,
          patient: task.for?.reference ?? '',
          about: `Task/${task.id}`,
          text: 'A form you assigned has been filled in. Sign in to see it.',
        })
      );
    }
    return done;
  });
}
