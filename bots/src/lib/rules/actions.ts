/**
 * What a fired rule does. At most one open result per rule and patient (an "episode"): while the Flag is active,
 * the Task open or the content recently sent, further firings only point to it. Every write is also keyed by the
 * evaluation, so processing the same reading twice never writes twice, even after the episode was closed.
 */
import type { MedplumClient } from '@medplum/core';
import type { Communication, DetectedIssue, Flag, Observation, Reference, Resource, Task } from '@medplum/fhirtypes';
import { addDays, createOnce, findByKey, instantOf, referenceTo } from '../fhir';
import { notificationCategories, queueNotification } from '../notify';
import type { RuleSeverity } from '../vocabulary';
import { FLAG_CATEGORY, FLAG_DETAIL_EXT, FLAG_PRIORITY_EXT, FLAG_PRIORITY_SYSTEM, SYSTEM } from '../vocabulary';
import type { Evaluation } from './evaluate';
import type { ClinicalRule } from './rule';

export interface ActionContext {
  readonly medplum: MedplumClient;
  readonly now: Date;
  readonly rule: ClinicalRule;
  readonly patient: string;
  readonly evaluation: Evaluation;
  readonly evaluationKey: string;
  readonly trigger?: Reference<Observation>;
}

const OPEN_TASK_STATUSES = 'draft,requested,received,accepted,ready,in-progress,on-hold';

const DETECTED_ISSUE_SEVERITY: Record<RuleSeverity, DetectedIssue['severity']> = {
  info: 'low',
  warn: 'moderate',
  critical: 'high',
};

const FLAG_PRIORITY: Record<RuleSeverity, string> = { info: 'PL', warn: 'PM', critical: 'PH' };

export function episodeKey(rule: ClinicalRule, patient: string): string {
  return `clinical-rule/${rule.id}/${patient}`;
}

/** Takes the rule's action, or finds the episode's open result; returns what the evaluation led to. */
export async function act(ctx: ActionContext): Promise<Reference[]> {
  const open = await openEpisode(ctx);
  if (open) {
    return [referenceTo(open)];
  }
  switch (ctx.rule.action) {
    case 'alert':
      return raiseAlert(ctx);
    case 'suggest_visit':
    case 'assign_task':
      return assignTask(ctx);
    case 'assign_content':
      return assignContent(ctx);
  }
}

async function openEpisode(ctx: ActionContext): Promise<Resource | undefined> {
  const key = episodeKey(ctx.rule, ctx.patient);
  switch (ctx.rule.action) {
    case 'alert':
      // R4 defines no status search parameter for Flag.
      return (await findByKey<Flag>(ctx.medplum, 'Flag', key)).find((f) => f.status === 'active');
    case 'suggest_visit':
    case 'assign_task':
      return (await findByKey<Task>(ctx.medplum, 'Task', key, `status=${OPEN_TASK_STATUSES}`))[0];
    case 'assign_content': {
      // Content counts as open for one window after it was queued: the same explanation is not sent every day.
      const since = addDays(ctx.now, -ctx.rule.windowDays).getTime();
      const sent = await findByKey<Communication>(ctx.medplum, 'Communication', key);
      return sent.find((c) => c.status !== 'entered-in-error' && (instantOf(c.meta?.lastUpdated) ?? 0) >= since);
    }
  }
}

const ruleCode = (ctx: ActionContext): Flag['code'] => ({
  coding: [{ system: SYSTEM.flagCode, code: 'clinical-rule-alert' }],
  text: ctx.rule.title,
});

/** alert: a DetectedIssue naming the readings, and an active Flag on the patient pointing to it. */
async function raiseAlert(ctx: ActionContext): Promise<Reference[]> {
  const { rule, evaluation, now } = ctx;
  const issue = await createOnce<DetectedIssue>(
    ctx.medplum,
    {
      resourceType: 'DetectedIssue',
      status: 'final',
      code: ruleCode(ctx),
      severity: DETECTED_ISSUE_SEVERITY[rule.severity],
      patient: { reference: ctx.patient },
      identifiedDateTime: now.toISOString(),
      implicated: (evaluation.hits.length > 0 ? evaluation.hits : evaluation.readings).map((r) => ({
        reference: r.ref,
      })),
      detail: `${rule.title}: ${evaluation.summary}`,
      reference: rule.canonical.split('|')[0],
    },
    `${ctx.evaluationKey}/detected-issue`
  );
  const flag = await createOnce<Flag>(
    ctx.medplum,
    {
      resourceType: 'Flag',
      status: 'active',
      category: [{ coding: [{ system: FLAG_CATEGORY, code: 'clinical' }] }],
      code: ruleCode(ctx),
      subject: { reference: ctx.patient },
      period: { start: now.toISOString() },
      extension: [
        {
          url: FLAG_PRIORITY_EXT,
          valueCodeableConcept: { coding: [{ system: FLAG_PRIORITY_SYSTEM, code: FLAG_PRIORITY[rule.severity] }] },
        },
        { url: FLAG_DETAIL_EXT, valueReference: referenceTo(issue) },
      ],
    },
    `${ctx.evaluationKey}/flag`,
    episodeKey(rule, ctx.patient)
  );
  return [referenceTo(flag), referenceTo(issue)];
}

/**
 * suggest_visit / assign_task: a Task (intent proposal for a visit, order for a task) for the patient. When the
 * rule's participant is the patient, they own it and are told there is something new (care-alert).
 */
async function assignTask(ctx: ActionContext): Promise<Reference[]> {
  const { rule, now } = ctx;
  const forPatient = rule.participantType === 'patient';
  const task = await createOnce<Task>(
    ctx.medplum,
    {
      resourceType: 'Task',
      status: 'requested',
      intent: rule.action === 'suggest_visit' ? 'proposal' : 'order',
      priority: rule.priority,
      code: { coding: [{ system: SYSTEM.ruleAction, code: rule.action }], text: rule.title },
      description: rule.description ?? rule.title,
      for: { reference: ctx.patient },
      authoredOn: now.toISOString(),
      basedOn: [{ reference: rule.ref }],
      ...(forPatient ? { owner: { reference: ctx.patient } } : {}),
      ...(rule.performerType ? { performerType: [rule.performerType] } : {}),
      ...(ctx.trigger ? { reasonReference: ctx.trigger } : {}),
      note: [{ text: ctx.evaluation.summary }],
    },
    `${ctx.evaluationKey}/task`,
    episodeKey(rule, ctx.patient)
  );
  if (forPatient) {
    await queueNotification(ctx.medplum, {
      key: `${ctx.evaluationKey}/task/notify`,
      recipient: { reference: ctx.patient },
      category: 'care-alert',
      text: 'You have a new task from your care team.',
      subject: { reference: ctx.patient },
      about: [referenceTo(task)],
      priority: rule.priority,
    });
  }
  return [referenceTo(task)];
}

/** assign_content: a Communication to the patient carrying the rule's documentation (sent as a notification). */
async function assignContent(ctx: ActionContext): Promise<Reference[]> {
  const { rule } = ctx;
  const payload: Communication['payload'] = rule.documentation.map((d) => ({
    contentAttachment: { ...(d.url ? { url: d.url } : {}), title: d.display ?? d.label ?? rule.title },
  }));
  if (rule.description) {
    payload.push({ contentString: rule.description });
  }
  const communication = await createOnce<Communication>(
    ctx.medplum,
    {
      resourceType: 'Communication',
      status: 'preparation',
      category: notificationCategories('care-content'),
      priority: rule.priority,
      instantiatesCanonical: [rule.canonical],
      subject: { reference: ctx.patient },
      recipient: [{ reference: ctx.patient }],
      ...(ctx.trigger ? { about: [ctx.trigger] } : {}),
      payload: payload.length > 0 ? payload : [{ contentString: rule.title }],
    },
    `${ctx.evaluationKey}/content`,
    episodeKey(rule, ctx.patient)
  );
  return [referenceTo(communication)];
}
