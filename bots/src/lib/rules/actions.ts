/**
 * What a fired rule does. At most one open result per rule and patient (an "episode"): while the Flag is active,
 * the Task open or the content recently sent, further firings only point to it. A new episode's writes are keyed
 * by its number, so evaluations that run at the same time (a synced batch of readings, delivered by several
 * workers) agree on it and the conditional create keeps one result. Each write also names the evaluation.
 */
import type { MedplumClient } from '@medplum/core';
import type {
  Communication,
  DetectedIssue,
  Flag,
  Identifier,
  Observation,
  Reference,
  Resource,
  ResourceType,
  Task,
} from '@medplum/fhirtypes';
import type { Search } from '../batch';
import { chunks, searchBatch } from '../batch';
import { addDays, instantOf, keyIdentifier, keyQuery, referenceTo } from '../fhir';
import { notification, notificationCategories } from '../notify';
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

/** A conditional create of one result, named in its batch by `fullUrl` so that other writes can point to it. */
export interface PlannedWrite {
  readonly fullUrl: string;
  readonly resource: Resource;
  readonly ifNoneExist: string;
}

/** What the fired evaluations lead to: for each, its results (a planned write's `fullUrl` when new). */
export interface ActionPlan {
  readonly actions: readonly Reference[][];
  readonly writes: readonly PlannedWrite[];
}

/**
 * The actions of many fired evaluations (in order) from one batch of searches: each episode's open result, or the
 * writes that open the next episode. A later evaluation of an episode that an earlier one opens in this batch
 * points to that one's new result, as it would have found it open had they run one after the other. The caller
 * makes the writes in one transaction (with whatever else it writes), where `fullUrl`s become references.
 */
export async function planActions(medplum: MedplumClient, ctxs: readonly ActionContext[]): Promise<ActionPlan> {
  const history = await episodeHistory(medplum, ctxs);
  const state = new Map<string, { open?: Reference[]; next: string }>();
  const writes: PlannedWrite[] = [];
  const names = fullUrls();
  const actions = ctxs.map((ctx): Reference[] => {
    const key = episodeKey(ctx.rule, ctx.patient);
    const known = state.get(key) ?? episodeState(ctx, history.get(key) ?? []);
    if (known.open) {
      state.set(key, known);
      return known.open.slice(0, 1);
    }
    const opened = openEpisode(ctx, known.next, names);
    writes.push(...opened.writes);
    state.set(key, { open: opened.results, next: known.next });
    return opened.results;
  });
  return { actions, writes };
}

const RESULT_TYPE = {
  alert: 'Flag',
  suggest_visit: 'Task',
  assign_task: 'Task',
  assign_content: 'Communication',
} as const;

type EpisodeResult = Flag | Task | Communication;

/** Every result ever written for the evaluations' episodes (open or not), by episode key: one search per type. */
async function episodeHistory(
  medplum: MedplumClient,
  ctxs: readonly ActionContext[]
): Promise<Map<string, EpisodeResult[]>> {
  const byType = new Map<string, Set<string>>();
  for (const ctx of ctxs) {
    const type = RESULT_TYPE[ctx.rule.action];
    byType.set(type, (byType.get(type) ?? new Set()).add(episodeKey(ctx.rule, ctx.patient)));
  }
  const searches = [...byType].flatMap(([type, keys]) =>
    chunks([...keys]).map((some): Search => ({
      resourceType: type as ResourceType,
      query: [
        ['identifier', some.map((k) => `${BOT_KEY_SYSTEM}|${k}`).join(',')],
        ['_count', String(EPISODES_PAGE)],
      ],
    }))
  );
  const wanted = new Set(ctxs.map((ctx) => episodeKey(ctx.rule, ctx.patient)));
  const history = new Map<string, EpisodeResult[]>();
  for (const found of await searchBatch(medplum, searches)) {
    for (const r of found as EpisodeResult[]) {
      for (const i of r.identifier ?? []) {
        if (i.system === BOT_KEY_SYSTEM && i.value && wanted.has(i.value)) {
          history.set(i.value, [...(history.get(i.value) ?? []), r]);
        }
      }
    }
  }
  return history;
}

/** Results read a page at a time while gathering an episode's history (searchBatch follows the next links). */
const EPISODES_PAGE = 1000;

/**
 * The episode's open result, or else the key of the episode to open: `<episode key>/episode/<n>`, one more than
 * the highest number so far (the highest, not a count, so that a deleted result does not bring a number back).
 * Both come from one search: an evaluation either sees another's new result as open, or picks the same number.
 */
function episodeState(ctx: ActionContext, earlier: readonly EpisodeResult[]): { open?: Reference[]; next: string } {
  const prefix = `${episodeKey(ctx.rule, ctx.patient)}/episode/`;
  const numbers = earlier.flatMap((r) =>
    (r.identifier ?? []).flatMap((i) =>
      i.system === BOT_KEY_SYSTEM && i.value?.startsWith(prefix) ? [Number(i.value.slice(prefix.length))] : []
    )
  );
  const open = earlier.find((r) => isOpen(ctx, r));
  return {
    ...(open ? { open: [referenceTo(open)] } : {}),
    next: `${prefix}${Math.max(0, ...numbers.filter(Number.isInteger)) + 1}`,
  };
}

/** Names for a batch's new results: urn:uuid fullUrls, unique in the batch (bots have no randomUUID). */
function fullUrls(): () => string {
  let n = 0;
  return () => `urn:uuid:00000000-0000-4000-8000-${(++n).toString(16).padStart(12, '0')}`;
}

/** The writes that open an episode, and its results (their fullUrls), the first being the episode's result. */
function openEpisode(ctx: ActionContext, episode: string, name: () => string): Opened {
  switch (ctx.rule.action) {
    case 'alert':
      return raiseAlert(ctx, episode, name);
    case 'suggest_visit':
    case 'assign_task':
      return assignTask(ctx, episode, name);
    case 'assign_content':
      return assignContent(ctx, episode, name);
  }
}

/** A conditional create on the first key; every key is an identifier of the resource. */
function planned(
  name: () => string,
  resource: DetectedIssue | Flag | Task | Communication,
  key: string,
  ...moreKeys: string[]
): PlannedWrite {
  const identifier: Identifier[] = [...(resource.identifier ?? []), ...[key, ...moreKeys].map(keyIdentifier)];
  return { fullUrl: name(), resource: { ...resource, identifier }, ifNoneExist: keyQuery(key) };
}

const refOf = (w: PlannedWrite): Reference => ({ reference: w.fullUrl });

interface Opened {
  readonly writes: PlannedWrite[];
  readonly results: Reference[];
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
function raiseAlert(ctx: ActionContext, episode: string, name: () => string): Opened {
  const { rule, evaluation, now } = ctx;
  const issue = planned(
    name,
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
  const flag = planned(
    name,
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
        { url: FLAG_DETAIL_EXT, valueReference: refOf(issue) },
      ],
    },
    episode,
    `${ctx.evaluationKey}/flag`,
    episodeKey(rule, ctx.patient)
  );
  return { writes: [issue, flag], results: [refOf(flag), refOf(issue)] };
}

/**
 * suggest_visit / assign_task: a Task (intent proposal for a visit, order for a task) for the patient. When the
 * rule's participant is the patient, they own it and are told there is something new (care-alert).
 */
function assignTask(ctx: ActionContext, episode: string, name: () => string): Opened {
  const { rule, now } = ctx;
  const forPatient = rule.participantType === 'patient';
  const task = planned(
    name,
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
  const writes = [task];
  if (forPatient) {
    const notice = notification({
      key: `${episode}/notify`,
      recipient: { reference: ctx.patient },
      category: 'care-alert',
      text: 'You have a new task from your care team.',
      subject: { reference: ctx.patient },
      about: [refOf(task)],
      priority: rule.priority,
    });
    writes.push(planned(name, notice, `${episode}/notify`));
  }
  return { writes, results: [refOf(task)] };
}

/** assign_content: a Communication to the patient carrying the rule's documentation (sent as a notification). */
function assignContent(ctx: ActionContext, episode: string, name: () => string): Opened {
  const { rule } = ctx;
  const payload: Communication['payload'] = rule.documentation.map((d) => ({
    contentAttachment: { ...(d.url ? { url: d.url } : {}), title: d.display ?? d.label ?? rule.title },
  }));
  if (rule.description) {
    payload.push({ contentString: rule.description });
  }
  const communication = planned(
    name,
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
  return { writes: [communication], results: [refOf(communication)] };
}
