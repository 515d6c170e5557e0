/**
 * What a fired rule does. At most one open result per rule and patient (an "episode"): while the Flag is active,
 * the Task open or the content recently sent, further firings only point to it. A new episode's writes are keyed
 * by its number, so evaluations that run at the same time (a synced batch of readings, delivered by several
 * workers) agree on it and the conditional create keeps one result. Each write also names the evaluation.
 */
import type { MedplumClient } from '@medplum/core';
import type { Communication, DetectedIssue, Flag, Observation, Reference, Resource, Task } from '@medplum/fhirtypes';
import { addDays, createOnce, instantOf, referenceTo, searchAll } from '../fhir';
import { notificationCategories, queueNotification } from '../notify';
import type { RuleSeverity } from '../vocabulary';
import {
  BOT_KEY_SYSTEM,
  FLAG_CATEGORY,
  FLAG_DETAIL_EXT,
  FLAG_PRIORITY_EXT,
  FLAG_PRIORITY_SYSTEM,
  SYSTEM,
} from '../vocabulary';
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

const OPEN_TASK_STATUSES: readonly string[] = [
  'draft',
  'requested',
  'received',
  'accepted',
  'ready',
  'in-progress',
  'on-hold',
];

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
  const { open, next } = await episodes(ctx);
  if (open) {
    return [referenceTo(open)];
  }
  switch (ctx.rule.action) {
    case 'alert':
      return raiseAlert(ctx, next);
    case 'suggest_visit':
    case 'assign_task':
      return assignTask(ctx, next);
    case 'assign_content':
      return assignContent(ctx, next);
  }
}

const RESULT_TYPE = {
  alert: 'Flag',
  suggest_visit: 'Task',
  assign_task: 'Task',
  assign_content: 'Communication',
} as const;

/**
 * The episode's open result, or else the key of the episode to open: `<episode key>/episode/<n>`, one more than
 * the highest number so far (the highest, not a count, so that a deleted result does not bring a number back).
 * Both come from one search: an evaluation either sees another's new result as open, or picks the same number.
 */
async function episodes(ctx: ActionContext): Promise<{ open?: Resource; next: string }> {
  const key = episodeKey(ctx.rule, ctx.patient);
  const prefix = `${key}/episode/`;
  const earlier: (Flag | Task | Communication)[] = await searchAll(
    ctx.medplum,
    RESULT_TYPE[ctx.rule.action],
    [['identifier', `${BOT_KEY_SYSTEM}|${key}`]],
    100_000
  );
  const numbers = earlier.flatMap((r) =>
    (r.identifier ?? []).flatMap((i) =>
      i.system === BOT_KEY_SYSTEM && i.value?.startsWith(prefix) ? [Number(i.value.slice(prefix.length))] : []
    )
  );
  return {
    open: earlier.find((r) => isOpen(ctx, r)),
    next: `${prefix}${Math.max(0, ...numbers.filter(Number.isInteger)) + 1}`,
  };
}

function isOpen(ctx: ActionContext, result: Flag | Task | Communication): boolean {
  switch (result.resourceType) {
    case 'Flag':
      return result.status === 'active';
    case 'Task':
      return OPEN_TASK_STATUSES.includes(result.status);
    case 'Communication': {
      // Content counts as open for one window after it was queued: the same explanation is not sent every day.
      const since = addDays(ctx.now, -ctx.rule.windowDays).getTime();
      return result.status !== 'entered-in-error' && (instantOf(result.meta?.lastUpdated) ?? 0) >= since;
    }
  }
}

const ruleCode = (ctx: ActionContext): Flag['code'] => ({
  coding: [{ system: SYSTEM.flagCode, code: 'clinical-rule-alert' }],
  text: ctx.rule.title,
});

/** alert: a DetectedIssue naming the readings, and an active Flag on the patient pointing to it. */
async function raiseAlert(ctx: ActionContext, episode: string): Promise<Reference[]> {
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
    `${episode}/detected-issue`,
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
    episode,
    `${ctx.evaluationKey}/flag`,
    episodeKey(rule, ctx.patient)
  );
  return [referenceTo(flag), referenceTo(issue)];
}

/**
 * suggest_visit / assign_task: a Task (intent proposal for a visit, order for a task) for the patient. When the
 * rule's participant is the patient, they own it and are told there is something new (care-alert).
 */
async function assignTask(ctx: ActionContext, episode: string): Promise<Reference[]> {
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
    episode,
    `${ctx.evaluationKey}/task`,
    episodeKey(rule, ctx.patient)
  );
  if (forPatient) {
    await queueNotification(ctx.medplum, {
      key: `${episode}/notify`,
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
async function assignContent(ctx: ActionContext, episode: string): Promise<Reference[]> {
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
    episode,
    `${ctx.evaluationKey}/content`,
    episodeKey(rule, ctx.patient)
  );
  return [referenceTo(communication)];
}
